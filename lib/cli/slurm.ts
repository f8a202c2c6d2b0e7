import * as path from 'path';
import type { Argv, CommandModule, Options } from 'yargs';
import { ClusterExtraction, SlurmResources, arrayScript, mergeScript } from '../cluster/sbatch';
import { RunStatus, runStatus, submitExtraction, unfinishedShards, waitForRun, writeScripts } from '../cluster/slurm';
import { thisInvocation } from '../cluster/shell';
import { readDataset } from '../data';
import { UsageError } from '../errors';
import { describeFrontEnd } from '../features/frontends';
import { extractCommand } from './extract';
import { runCommand } from './run';

/** Options `slurm extract` and `k8s extract` add to extract's. */
export const CLUSTER_OPTIONS = {
  tasks: { type: 'number', demandOption: true, describe: 'shards, one per array task (Indexed Job completion)' },
  'cpus-per-task': { type: 'number', default: 1, describe: 'CPUs of each task, and its extract --workers' },
  mem: { type: 'string', describe: 'memory of each task (sbatch --mem, e.g. 8G; Kubernetes quantity, e.g. 8Gi)' },
  wavprobe: { type: 'string', describe: 'how the nodes run wavprobe (default: this node and script; for Kubernetes: wavprobe)' },
} as const satisfies Record<string, Options>;

const SLURM_OPTIONS = {
  ...CLUSTER_OPTIONS,
  partition: { type: 'string', describe: 'sbatch --partition' },
  time: { type: 'string', describe: 'sbatch --time of each task and of the merge' },
  account: { type: 'string', describe: 'sbatch --account' },
  'sbatch-arg': { type: 'string', array: true, describe: 'one more #SBATCH line (repeatable), e.g. --sbatch-arg=--qos=long' },
  'max-running': { type: 'number', describe: 'at most this many array tasks at once (--array=…%N)' },
  submit: { type: 'boolean', describe: 'submit with sbatch and print the job ids (else the scripts are printed)' },
  wait: { type: 'boolean', describe: 'submit, then follow the jobs until the merge ends; non-zero exit when a job failed' },
  'script-out': { type: 'string', describe: 'only write the array script to FILE and the merge script beside it (FILE-merge)' },
  poll: { type: 'number', default: 10, describe: 'seconds between two looks at squeue and the journals with --wait' },
} as const satisfies Record<string, Options>;

/** ClusterArgs arguments of a cluster command: extract's, and the cluster options. */
export interface ClusterArgs {
  [key: string]: unknown;
  model: string;
  data: string;
  split?: string;
  layers: string;
  out: string;
  shard?: string;
  shards?: number;
  workers: number;
  tasks: number;
  'cpus-per-task': number;
  mem?: string;
  wavprobe?: string;
}

interface SlurmArgs extends ClusterArgs {
  partition?: string;
  time?: string;
  account?: string;
  'sbatch-arg'?: string[];
  'max-running'?: number;
  submit?: boolean;
  wait?: boolean;
  'script-out'?: string;
  poll: number;
}

/** extract's arguments to pass on: every extract option given or defaulted, less those each task sets itself. */
export function forwardedExtractArgs(args: ClusterArgs, own: Record<string, unknown>): string[] {
  const skip = new Set(['_', '$0', 'out', 'shard', 'shards', 'workers', ...Object.keys(own)]);
  const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const argv: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (skip.has(k) || v === undefined || (/[A-Z]/.test(k) && kebab(k) in args)) continue; // yargs' camelCase copies
    for (const x of Array.isArray(v) ? v : [v]) argv.push(...(typeof x === 'boolean' ? [x ? `--${k}` : `--no-${k}`] : [`--${k}`, String(x)]));
  }
  return argv;
}

/** The extract options plus `own`, for `slurm extract` and `k8s extract`. */
export function withExtractOptions(y: Argv, own: Record<string, Options>): Argv {
  return (extractCommand.builder as (y: Argv) => Argv)(y).options(own);
}

/** The extraction a cluster command describes; refuses what a task sets itself. */
export function clusterExtraction(args: ClusterArgs, own: Record<string, unknown>, out: string, wavprobe: string): ClusterExtraction {
  if (args.shard !== undefined || args.shards !== undefined) throw new UsageError('--shard is set per task; give --tasks N');
  if (args.workers !== 1 && args.workers !== args['cpus-per-task'])
    throw new UsageError("each task's --workers is its --cpus-per-task; give --cpus-per-task N");
  if (!Number.isInteger(args.tasks) || args.tasks < 1) throw new UsageError(`--tasks must be a positive integer, got ${args.tasks}`);
  return { out, tasks: args.tasks, extractArgs: forwardedExtractArgs(args, own), wavprobe, cwd: process.cwd() };
}

function summary(st: RunStatus): string {
  const complete = st.shards.filter((s) => s.state === 'complete').length;
  const done = st.shards.reduce((a, s) => a + s.done, 0);
  const total = st.shards.reduce((a, s) => a + s.total, 0);
  const count = (state: string) => st.shards.filter((s) => s.state === state).length;
  return `${complete}/${st.shards.length} shards complete, ${done}/${total} files; ${count('running')} running, ${count('pending')} pending; merge ${st.merge.state}`;
}

const slurmExtractCommand: CommandModule<object, SlurmArgs> = {
  command: 'extract',
  describe: 'extract as a SLURM job array (one shard per task) and a merge job; rerun the same command to resume',
  builder: (y) => withExtractOptions(y, SLURM_OPTIONS) as never,
  handler: (args) =>
    runCommand('slurm', async () => {
      const out = path.resolve(args.out);
      const x = clusterExtraction(args, SLURM_OPTIONS, out, args.wavprobe ?? thisInvocation());
      const files = readDataset(args.data, { split: args.split }).length;
      if (x.tasks > files) throw new UsageError(`--tasks ${x.tasks} is more than the dataset's ${files} files`);
      describeFrontEnd({ model: args.model, layers: args.layers }); // a bad --model or --layers fails here, not in every task
      const r: SlurmResources = {
        cpusPerTask: args['cpus-per-task'],
        mem: args.mem,
        time: args.time,
        partition: args.partition,
        account: args.account,
        sbatchArgs: args['sbatch-arg'],
        maxRunning: args['max-running'],
      };
      if (args['script-out']) {
        const mergeFile = writeScripts(x, r, args['script-out']);
        process.stdout.write(
          `wrote ${args['script-out']} and ${mergeFile}; submit them with\n` +
            `  jid=$(sbatch --parsable ${args['script-out']}) && sbatch --dependency=afterok:$jid --kill-on-invalid-dep=yes ${mergeFile}\n`,
        );
        return;
      }
      if (!args.submit && !args.wait) return void process.stdout.write(`${arrayScript(x, r, unfinishedShards(out, x.tasks))}\n${mergeScript(x, r)}`);
      const s = await submitExtraction(x, r, files);
      for (const note of s.notes) process.stderr.write(`wavprobe slurm: ${note}\n`);
      if (s.submission) {
        const { array, shards, merge } = s.submission;
        process.stdout.write(`${array ? `array job ${array} (shards ${shards.join(',')}), ` : ''}merge job ${merge}\n`);
      } else if (s.running.length) process.stdout.write(`still queued or running from the last submission: ${s.running.join(' ')}\n`);
      else return void process.stdout.write(`${out}: already complete\n`);
      if (!args.wait) return;
      const st = await waitForRun(out, { pollS: args.poll, onProgress: (p) => process.stderr.write(`wavprobe slurm: ${summary(p)}\n`) });
      process.stdout.write(`${out}: ${st.shards.reduce((a, s) => a + s.total, 0)} files from ${st.shards.length} shards\n`);
    }),
};

const slurmStatusCommand: CommandModule<object, { out: string }> = {
  command: 'status <out>',
  describe: 'per shard: files done / total and state (complete, pending, running, failed, stopped), and the merge',
  builder: (y) => y.positional('out', { type: 'string', demandOption: true, describe: 'the --out of `slurm extract`' }) as never,
  handler: (args) =>
    runCommand('slurm', async () => {
      const st = runStatus(path.resolve(args.out));
      const rows = st.shards.map((s) => {
        const detail = [s.job && `job ${s.job}`, s.exit !== undefined && `exit status ${s.exit ?? 'none'}`, s.exit !== undefined && `log ${s.log}`];
        return `${String(s.index).padEnd(6)} ${`${s.done}/${s.total}`.padEnd(12)} ${s.state.padEnd(14)} ${detail.filter(Boolean).join(', ')}`;
      });
      const merge = `merge: ${st.merge.state}${st.merge.job ? ` (job ${st.merge.job}${st.merge.exit !== undefined ? `, exit status ${st.merge.exit ?? 'none'}, log ${st.merge.log}` : ''})` : ''}`;
      process.stdout.write([`${st.out}: ${summary(st)}`, `${'shard'.padEnd(6)} ${'files'.padEnd(12)} state`, ...rows, merge, ''].join('\n'));
    }),
};

export const slurmCommand: CommandModule = {
  command: 'slurm <command>',
  describe: 'Extract across a SLURM cluster: a job array of shards and a merge (extract), their progress (status)',
  builder: (y) => y.command(slurmExtractCommand).command(slurmStatusCommand).demandCommand(1, 'name a slurm command: extract or status'),
  handler: () => undefined,
};
