import type { CommandModule } from 'yargs';
import { UsageError } from '../errors';
import { checkBootstrapOptions } from '../metrics/bootstrap';
import { FeaturePool, featureSetName, parseFeatureSet } from '../probe/feature-set';
import { probeJson, probeLayers, probeTable } from '../probe/layerwise';
import { writeProbeReport } from '../report/probe-report';
import { POOL_OPTION, parseCalibrateOn } from './train';
import { withLock } from '../lock';
import { ALLOW_MODEL_MISMATCH, runCommand } from './run';

interface Args {
  train: string;
  eval: string[];
  'calibrate-on'?: string;
  C: number;
  standardize?: boolean;
  out?: string;
  json?: boolean;
  'allow-model-mismatch'?: boolean;
  layers?: string[];
  pool: FeaturePool;
  bootstrap?: number;
  seed?: number;
}

export const probeCommand: CommandModule<object, Args> = {
  command: 'probe',
  describe: 'One logistic-regression head per layer (or feature set) of a training store, evaluated on each eval store (EER, ECE, …)',
  builder: (y) =>
    y
      .option('train', { type: 'string', demandOption: true, describe: 'training feature store' })
      .option('eval', { type: 'string', array: true, demandOption: true, describe: 'evaluation feature store(s)' })
      .option('calibrate-on', { type: 'string', describe: 'calibration store, or a held-out fraction of the training store (e.g. 0.2)' })
      .option('C', { type: 'number', default: 1e6, describe: 'inverse L2 strength (scikit-learn C)' })
      .option('standardize', { type: 'boolean', describe: 'standardise features with the training mean/std' })
      .option('out', { type: 'string', describe: 'write report.md, report.json, heads/ and the layer-wise charts here' })
      .option('layers', {
        type: 'string',
        array: true,
        describe: 'one row per feature set: 7 (a layer), 5,7 (concatenated), mean:0-24 (averaged); default every layer',
      })
      .option('pool', POOL_OPTION)
      .option('bootstrap', { type: 'number', describe: "N: each EER's 95 % percentile interval from N resamples of the eval files" })
      .option('seed', { type: 'number', describe: 'seed of the bootstrap resampling (default 0)' })
      .option('json', { type: 'boolean', describe: 'print {"layers": [{"layer", "features", "eval": {store: metrics}}]}' })
      .option('allow-model-mismatch', ALLOW_MODEL_MISMATCH) as never,
  handler: (args) => runCommand('probe', () => (args.out ? withLock(args.out, () => probe(args)) : probe(args))),
};

async function probe(args: Args): Promise<void> {
  if (args.seed !== undefined && args.bootstrap === undefined) throw new UsageError('--seed goes with --bootstrap N');
  const bootstrap = args.bootstrap === undefined ? undefined : checkBootstrapOptions({ n: args.bootstrap, seed: args.seed ?? 0, by: 'file' });
  const results = probeLayers(args.train, args.eval.map(String), {
    sets: args.layers?.map((l) => parseFeatureSet(String(l), args.pool)),
    pool: args.pool,
    bootstrap,
    C: args.C,
    standardize: args.standardize,
    calibrateOn: parseCalibrateOn(args['calibrate-on']),
    allowModelMismatch: args['allow-model-mismatch'],
    onLayer: (label, i, n) => process.stderr.isTTY && process.stderr.write(`\rprobing ${label} (${i + 1}/${n})`),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (args.out) {
    await writeProbeReport(args.out, {
      title: 'Layer-wise probe',
      intro: [
        `Training store: \`${args.train}\`; C = ${args.C}${args.standardize ? ', standardised' : ''}; calibration: ${args['calibrate-on'] ?? 'none'}` +
          `; features: ${args.layers ? results.map((r) => featureSetName(r.features)).join('; ') : `every layer (${args.pool})`}` +
          (bootstrap ? `; EER intervals: 95 % percentile, ${bootstrap.n} resamples of the files (seed ${bootstrap.seed}).` : '.'),
      ],
      results,
    });
  }
  process.stdout.write(args.json ? JSON.stringify(probeJson(results)) + '\n' : probeTable(results) + '\n');
}
