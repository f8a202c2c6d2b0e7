import type { CommandModule } from 'yargs';
import { probeJson, probeLayers, probeTable } from '../probe/layerwise';
import { writeProbeReport } from '../report/probe-report';
import { parseCalibrateOn } from './train';
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
}

export const probeCommand: CommandModule<object, Args> = {
  command: 'probe',
  describe: 'One logistic-regression head per layer of a training store, evaluated on each eval store (EER, ECE, …)',
  builder: (y) =>
    y
      .option('train', { type: 'string', demandOption: true, describe: 'training feature store' })
      .option('eval', { type: 'string', array: true, demandOption: true, describe: 'evaluation feature store(s)' })
      .option('calibrate-on', { type: 'string', describe: 'calibration store, or a held-out fraction of the training store (e.g. 0.2)' })
      .option('C', { type: 'number', default: 1e6, describe: 'inverse L2 strength (scikit-learn C)' })
      .option('standardize', { type: 'boolean', describe: 'standardise features with the training mean/std' })
      .option('out', { type: 'string', describe: 'write report.md, report.json, heads/ and the layer-wise charts here' })
      .option('json', { type: 'boolean', describe: 'print {"layers": [{"layer", "eval": {store: metrics}}]}' })
      .option('allow-model-mismatch', ALLOW_MODEL_MISMATCH) as never,
  handler: (args) => runCommand('probe', () => (args.out ? withLock(args.out, () => probe(args)) : probe(args))),
};

async function probe(args: Args): Promise<void> {
  const results = probeLayers(args.train, args.eval.map(String), {
    C: args.C,
    standardize: args.standardize,
    calibrateOn: parseCalibrateOn(args['calibrate-on']),
    allowModelMismatch: args['allow-model-mismatch'],
    onLayer: (layer, i, n) => process.stderr.isTTY && process.stderr.write(`\rprobing layer ${layer} (${i + 1}/${n})`),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (args.out) {
    await writeProbeReport(args.out, {
      title: 'Layer-wise probe',
      intro: [
        `Training store: \`${args.train}\`; C = ${args.C}${args.standardize ? ', standardised' : ''}; calibration: ${args['calibrate-on'] ?? 'none'}.`,
      ],
      results,
    });
  }
  process.stdout.write(args.json ? JSON.stringify(probeJson(results)) + '\n' : probeTable(results) + '\n');
}
