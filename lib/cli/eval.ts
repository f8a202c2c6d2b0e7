import type { CommandModule } from 'yargs';
import { UsageError } from '../errors';
import { evaluateScoresFile } from '../metrics/scores';
import { evaluateHead, evaluateScores, EvalReport } from '../report/report';
import { withLock } from '../lock';
import { ALLOW_MODEL_MISMATCH, runCommand } from './run';

interface EvalArgs {
  head?: string;
  features?: string;
  scores?: string;
  out?: string;
  json?: boolean;
  'allow-model-mismatch'?: boolean;
}

function printSummary(r: EvalReport, out: string): void {
  for (const s of r.sets) {
    const m = s.metrics;
    console.log(
      `${s.name}: EER ${(100 * m.eer_asvspoof).toFixed(2)}% (ROC-interpolated ${(100 * m.eer_roc_interpolated).toFixed(2)}%), ` +
        `AUC ${m.auc.toFixed(4)}, ECE ${(100 * m.ece_15).toFixed(2)}%, NLL ${m.nll.toFixed(4)}`,
    );
  }
  console.log(`report in ${out}`);
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate a head on a feature store, or a score file (id,label,score): EER, AUC, ECE, Brier, NLL, plots',
  builder: (y) =>
    y
      .option('head', { type: 'string', describe: 'head file from `wavprobe train`' })
      .option('features', { type: 'string', describe: 'feature store to score with the head' })
      .option('scores', { type: 'string', describe: 'CSV with id,label,score (score = P(spoof))' })
      .option('out', { type: 'string', describe: 'report directory (report.json, report.md, plots)' })
      .option('json', { type: 'boolean', describe: 'print the metrics as one JSON object' })
      .option('allow-model-mismatch', ALLOW_MODEL_MISMATCH),
  handler: (args) =>
    runCommand('eval', async () => {
      if (args.scores !== undefined) {
        if (args.head !== undefined || args.features !== undefined) throw new UsageError('give either --scores, or --head with --features');
        if (args.out !== undefined) {
          const r = await evaluateScores(args.scores, args.out);
          if (args.json) console.log(JSON.stringify(r.sets[0].metrics));
          else printSummary(r, args.out);
        } else {
          const m = evaluateScoresFile(args.scores);
          if (args.json) console.log(JSON.stringify(m));
          else for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(22)} ${v}`);
        }
        return;
      }
      if (args.head === undefined || args.features === undefined || args.out === undefined) {
        throw new UsageError('give --head, --features and --out (or --scores)');
      }
      const r = await withLock(args.out, () =>
        evaluateHead(args.head!, args.features!, args.out!, { allowModelMismatch: args['allow-model-mismatch'] }),
      );
      if (args.json) console.log(JSON.stringify(r.sets[r.sets.length - 1].metrics));
      else printSummary(r, args.out);
    }),
};
