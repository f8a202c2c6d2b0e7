/**
 * The two sbatch scripts of a cluster extraction: a job array whose task i extracts shard i of n into
 * `<out>.shards/<i>`, and a merge job (submitted with `--dependency=afterok:<array>`) that joins them into `<out>`.
 * Each script writes its exit status last (layout.ts), so a waiting process can tell a failure from a cancel.
 */
import * as path from 'path';
import { exitDir, logsDir, shardsDir } from './layout';
import { shellLine, shellWord } from './shell';

/** A cluster extraction: `extract <extractArgs>` of `tasks` shards into `out`. */
export interface ClusterExtraction {
  /** Absolute path of the final store. */
  out: string;
  tasks: number;
  /** extract's arguments other than --out, --shard and --workers, e.g. ['--model', 'm', '--data', 'csv:d.csv']. */
  extractArgs: string[];
  /** How the nodes run wavprobe, as shell words (e.g. `/usr/bin/node /opt/wavprobe/bin/wavprobe.js`). */
  wavprobe: string;
  /** Where the jobs run, so that relative paths in extractArgs mean what they meant here. */
  cwd: string;
}

export interface SlurmResources {
  /** Also `extract --workers`. */
  cpusPerTask: number;
  partition?: string;
  time?: string;
  mem?: string;
  account?: string;
  /** More sbatch options, one per `#SBATCH` line (e.g. `--qos=long`). */
  sbatchArgs?: string[];
  /** At most this many array tasks at once (`--array=…%max`). */
  maxRunning?: number;
}

/** sbatch's --array list for these (sorted) indices: runs as ranges, `0-3,5,7-9`, then `%max`. */
export function arraySpec(indices: number[], maxRunning?: number): string {
  const parts: string[] = [];
  for (let k = 0; k < indices.length;) {
    let j = k;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    parts.push(j === k ? `${indices[k]}` : `${indices[k]}-${indices[j]}`);
    k = j + 1;
  }
  return parts.join(',') + (maxRunning ? `%${maxRunning}` : '');
}

function directives(name: string, cpus: number, r: SlurmResources, cwd: string, output: string): string[] {
  const lines = [`--job-name=${name}`, `--cpus-per-task=${cpus}`];
  if (r.mem) lines.push(`--mem=${r.mem}`);
  if (r.time) lines.push(`--time=${r.time}`);
  if (r.partition) lines.push(`--partition=${r.partition}`);
  if (r.account) lines.push(`--account=${r.account}`);
  lines.push(...(r.sbatchArgs ?? []), `--chdir=${cwd}`, `--output=${output}`);
  return lines.map((l) => `#SBATCH ${l}`);
}

/** The status of the command before it, renamed into place so that a reader sees all of it or nothing. */
const writeExit = (file: string): string[] => [
  'status=$?',
  `exit_file=${file}`,
  'echo "$status" >"$exit_file.tmp" && mv "$exit_file.tmp" "$exit_file"',
  'exit "$status"',
];

/** The array script for the shards `indices` (all of 0..tasks-1 at first; the unfinished ones on a rerun). */
export function arrayScript(x: ClusterExtraction, r: SlurmResources, indices: number[]): string {
  const extract = `${x.wavprobe} extract ${shellLine(x.extractArgs)} --workers ${r.cpusPerTask}`;
  return [
    '#!/bin/bash',
    `# wavprobe: extracts ${x.out} in ${x.tasks} shards, array task i → shard i (${x.out}.shards/<i>), resuming its journal.`,
    `# The shard count is written out (not $SLURM_ARRAY_TASK_COUNT): a resubmission runs only the unfinished shards.`,
    `#SBATCH --array=${arraySpec(indices, r.maxRunning)}`,
    ...directives('wavprobe-extract', r.cpusPerTask, r, x.cwd, path.join(logsDir(x.out), 'shard-%a-%A.log')),
    '',
    `${extract} --shard "$SLURM_ARRAY_TASK_ID/${x.tasks}" --out ${shellWord(shardsDir(x.out))}/"$SLURM_ARRAY_TASK_ID"`,
    ...writeExit(`${shellWord(exitDir(x.out))}/"shard-$SLURM_ARRAY_TASK_ID.$SLURM_ARRAY_JOB_ID"`),
    '',
  ].join('\n');
}

/** The merge script: joins shards 0..tasks-1 into out. */
export function mergeScript(x: ClusterExtraction, r: SlurmResources): string {
  const shards = `${shellWord(shardsDir(x.out))}/${x.tasks === 1 ? '0' : `{0..${x.tasks - 1}}`}`;
  return [
    '#!/bin/bash',
    `# wavprobe: joins the ${x.tasks} shard stores of ${x.out} into it, once every array task has succeeded.`,
    ...directives('wavprobe-merge', 1, r, x.cwd, path.join(logsDir(x.out), 'merge-%j.log')),
    '',
    `${x.wavprobe} merge ${shards} --out ${shellWord(x.out)}`,
    ...writeExit(`${shellWord(exitDir(x.out))}/"merge.$SLURM_JOB_ID"`),
    '',
  ].join('\n');
}
