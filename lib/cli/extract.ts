import type { CommandModule } from 'yargs';
import { readDataset } from '../data';
import { extractFeatures } from '../features/extract';
import { POOLINGS, Pooling } from '../features/frontend';
import { describeFrontEnd } from '../features/frontends';
import { resolveShard } from '../cluster/shard';
import { extractionProgress, stopOnSignal } from './progress';
import { BackendArgs, runCommand, selectBackend, withBackend } from './run';

interface Args extends BackendArgs {
  model: string;
  data: string;
  split?: string;
  out: string;
  layers: string;
  pool: Pooling;
  'max-seconds'?: number;
  shard?: string;
  shards?: number;
  workers: number;
}

export const extractCommand: CommandModule<object, Args> = {
  command: 'extract',
  describe: 'Pooled features (mean, or mean and std) of every requested layer for each file of a dataset, into a feature store (resumable)',
  builder: (y) =>
    withBackend(y)
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: 'converted model or HF checkpoint directory, or "lfcc" for the LFCC baseline',
      })
      .option('data', {
        type: 'string',
        demandOption: true,
        describe: 'KIND:PATH (asvspoof2019, asvspoof2021-la, asvspoof2021-df, in-the-wild, fakeorreal, csv, folder)',
      })
      .option('split', { type: 'string', describe: 'dataset split (train|dev|eval for ASVspoof 2019, …)' })
      .option('out', { type: 'string', demandOption: true, describe: 'feature store directory to create' })
      .option('layers', { type: 'string', default: 'all', describe: 'all | ..k | a..b | a,b,c' })
      .option('pool', { choices: POOLINGS, default: 'mean' as Pooling, describe: 'pooling over time: mean, or mean,std (also layer_NN_std.npy)' })
      .option('max-seconds', { type: 'number', describe: 'use only the first S seconds of each file' })
      .option('workers', { type: 'number', default: 1, describe: 'worker threads, each with its own copy of the model (2 on a 2-core machine)' })
      .option('shard', {
        type: 'string',
        describe:
          'i/n: the i-th of n contiguous parts (0-based), joined by `wavprobe merge`; auto: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX',
      })
      .option('shards', { type: 'number', describe: 'n with --shard auto (needed in a Kubernetes Indexed Job)' }) as never,
  handler: (args) =>
    runCommand('extract', async () => {
      const shard = args.shard ? resolveShard(args.shard, args.shards) : undefined;
      const items = readDataset(args.data, { split: args.split });
      await selectBackend(args);
      const spec = { model: args.model, layers: args.layers, pooling: args.pool };
      const layers = describeFrontEnd(spec).layers;
      const progress = extractionProgress('extract');
      const signal = stopOnSignal();
      try {
        const s = await extractFeatures(items, spec, args.out, {
          workers: args.workers,
          backend: args.backend,
          maxSeconds: args['max-seconds'],
          shard,
          onProgress: progress.update,
          shouldStop: signal.requested,
        });
        progress.stop();
        if (!s.complete) {
          process.stderr.write(`wavprobe extract: stopped after ${s.ok + s.failed} of ${s.total} files; rerun the same command to continue\n`);
          return 130;
        }
        process.stdout.write(
          `${s.out}: ${s.ok} files, layers ${layers.join(',')}${s.failed ? `; ${s.failed} failed (see ${s.out}/errors.csv)` : ''}\n`,
        );
      } finally {
        signal.release();
      }
    }),
};
