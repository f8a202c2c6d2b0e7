import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { SingleBar } from 'cli-progress';
import { UsageError } from '../errors';
import { FEATURE_POOLS, FeaturePool, featureSetName, parseFeatureSet } from '../probe/feature-set';
import { DEFAULT_C, trainHead, writeHead } from '../probe/head';
import { withLock } from '../lock';
import { ALLOW_MODEL_MISMATCH, runCommand } from './run';

interface TrainArgs {
  features: string;
  layers: string;
  pool: FeaturePool;
  C: number;
  standardize?: boolean;
  'class-weight'?: string;
  'calibrate-on'?: string;
  calibration: 'temperature' | 'platt';
  seed: number;
  out: string;
  'allow-model-mismatch'?: boolean;
}

/** `--calibrate-on`: an existing directory is a store; otherwise a number in (0, 1) is a held-out fraction. */
export function parseCalibrateOn(v: string | undefined): string | number | null {
  if (v === undefined) return null;
  if (fs.existsSync(v)) return v;
  const f = Number(v);
  if (v.trim() !== '' && f > 0 && f < 1) return f;
  throw new UsageError(`--calibrate-on "${v}" is neither a feature store directory nor a fraction in (0, 1)`);
}

/** `--pool` of train, probe: which pooled statistics of each layer the features hold. */
export const POOL_OPTION = {
  choices: FEATURE_POOLS,
  default: 'mean' as FeaturePool,
  describe: "mean, or mean+std: each layer's mean then its std over frames (a store extracted with --pool mean,std)",
};

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a logistic-regression head on a layer (or feature set) of a feature store, optionally calibrated',
  builder: (y) =>
    y
      .option('features', { type: 'string', demandOption: true, describe: 'feature store directory (index.csv + layer_NN.npy)' })
      .option('layers', {
        alias: 'layer',
        type: 'string',
        demandOption: true,
        describe: 'features to train on: a layer (7), layers concatenated (5,7) or averaged (mean:0-24)',
      })
      .option('pool', POOL_OPTION)
      .option('C', { type: 'number', default: DEFAULT_C, describe: 'inverse L2 strength, as scikit-learn' })
      .option('standardize', { type: 'boolean', describe: 'standardise features with the training mean/std first' })
      .option('class-weight', { type: 'string', choices: ['balanced'], describe: 'weight classes by n / (2·n_class)' })
      .option('calibrate-on', { type: 'string', describe: 'feature store, or held-out fraction of the training store, to calibrate on' })
      .option('calibration', { choices: ['temperature', 'platt'] as const, default: 'temperature' as const, describe: 'calibration map' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the held-out split' })
      .option('out', { type: 'string', demandOption: true, describe: 'head file to write (JSON)' })
      .option('allow-model-mismatch', ALLOW_MODEL_MISMATCH),
  handler: (args) => runCommand('train', () => withLock(args.out, () => train(args))),
};

async function train(args: TrainArgs): Promise<void> {
  const bar = process.stderr.isTTY ? new SingleBar({ format: 'L-BFGS {value} iterations, objective {f}', clearOnComplete: true }) : null;
  bar?.start(0, 0, { f: '' });
  let head;
  try {
    head = trainHead(args.features, parseFeatureSet(args.layers, args.pool), {
      C: args.C,
      standardize: args.standardize,
      classWeight: args['class-weight'] === 'balanced' ? 'balanced' : null,
      calibrateOn: parseCalibrateOn(args['calibrate-on']),
      calibration: args.calibration,
      seed: args.seed,
      allowModelMismatch: args['allow-model-mismatch'],
      onIteration: bar ? (it, f) => it % 10 === 0 && bar.update(it, { f: f.toPrecision(8) }) : undefined,
    });
  } finally {
    bar?.stop();
  }
  writeHead(args.out, head);
  const t = head.training;
  const cal = head.calibration
    ? `; ${head.calibration.method} on ${head.calibration.n} rows, NLL ${head.calibration.before.nll.toFixed(4)} → ${head.calibration.after.nll.toFixed(4)}` +
      (head.platt ? '' : ` (T = ${head.temperature.toPrecision(5)})`)
    : '';
  console.log(
    `${head.features.layers.length > 1 ? 'layers' : 'layer'} ${featureSetName(head.features)}: ${t.n} rows × ${t.dim}, ${t.iterations} L-BFGS iterations${t.converged ? '' : ' (NOT converged)'}${cal}; wrote ${args.out}`,
  );
}
