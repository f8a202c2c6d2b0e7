import * as path from 'path';
import type { CommandModule } from 'yargs';
import { UsageError } from '../errors';
import { checkPrior } from '../metrics/asvspoof5';
import { evaluateScoresFile, readScoresCsv, writeAsvspoof5Files } from '../metrics/scores';
import { evaluateHead, evaluateScores, EvalReport } from '../report/report';
import { withLock } from '../lock';
import { ALLOW_MODEL_MISMATCH, runCommand } from './run';

interface EvalArgs {
  head?: string;
  features?: string;
  scores?: string;
  out?: string;
  json?: boolean;
  'prior-spoof'?: number;
  'write-scores'?: string[];
  'allow-model-mismatch'?: boolean;
}

const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(4));

function printSummary(r: EvalReport, out: string): void {
  for (const s of r.sets) {
    const m = s.metrics;
    console.log(
      `${s.name}: EER ${(100 * m.eer_asvspoof).toFixed(2)}% (ROC-interpolated ${(100 * m.eer_roc_interpolated).toFixed(2)}%), ` +
        `AUC ${m.auc.toFixed(4)}, ECE ${(100 * m.ece_15).toFixed(2)}%, NLL ${m.nll.toFixed(4)}, ` +
        `minDCF ${fmt(m.min_dcf)}, actDCF ${fmt(m.act_dcf)}, Cllr ${fmt(m.cllr)}, min Cllr ${fmt(m.min_cllr)}`,
    );
  }
  console.log(`report in ${out}`);
}

/** `--write-scores FORMAT DIR`: the directory, once the format is known. */
function writeScoresDir(v: string[] | undefined): string | null {
  if (v === undefined) return null;
  const [format, dir] = v.map(String);
  if (format !== 'asvspoof5' || v.length !== 2) throw new UsageError(`--write-scores takes a format and a directory: asvspoof5 DIR`);
  return dir;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate a head on a feature store, or a score file (id,label,score): EER, AUC, ECE, Brier, NLL, ASVspoof 5 metrics, plots',
  builder: (y) =>
    y
      .option('head', { type: 'string', describe: 'head file from `wavprobe train`' })
      .option('features', { type: 'string', describe: 'feature store to score with the head' })
      .option('scores', { type: 'string', describe: 'CSV with id,label,score (score = P(spoof))' })
      .option('out', { type: 'string', describe: 'report directory (report.json, report.md, plots)' })
      .option('json', { type: 'boolean', describe: 'print the metrics as one JSON object' })
      .option('prior-spoof', {
        type: 'number',
        describe: "spoof prior the P(spoof) scores were calibrated under, for their LLRs (default: the head's)",
      })
      .option('write-scores', {
        type: 'string',
        array: true,
        nargs: 2,
        describe: 'asvspoof5 DIR: also write the ASVspoof 5 score and key files (filename, cm-score = LLR / cm-label) into DIR',
      })
      .option('allow-model-mismatch', ALLOW_MODEL_MISMATCH),
  handler: (args) =>
    runCommand('eval', async () => {
      const prior = args['prior-spoof'] === undefined ? undefined : checkPrior(args['prior-spoof'], '--prior-spoof');
      const asvspoof5Dir = writeScoresDir(args['write-scores']);
      if (args.scores !== undefined) {
        if (args.head !== undefined || args.features !== undefined) throw new UsageError('give either --scores, or --head with --features');
        if (prior === undefined && asvspoof5Dir !== null) throw new UsageError('--write-scores asvspoof5 needs --prior-spoof (its scores are LLRs)');
        if (args.out !== undefined) {
          const r = await evaluateScores(args.scores, args.out, prior ?? null);
          if (args.json) console.log(JSON.stringify(r.sets[0].metrics));
          else printSummary(r, args.out);
        } else {
          const m = evaluateScoresFile(args.scores, prior ?? null);
          if (args.json) console.log(JSON.stringify(m));
          else for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(22)} ${v}`);
        }
        if (asvspoof5Dir !== null) writeAsvspoof5Files(asvspoof5Dir, readScoresCsv(args.scores), prior!);
        // Said once the scores are known good, so that an error stays the only line.
        if (prior === undefined) {
          process.stderr.write('wavprobe eval: act_dcf, cllr and min_cllr need --prior-spoof (the prior the scores were calibrated under): null\n');
        }
        return;
      }
      if (args.head === undefined || args.features === undefined || args.out === undefined) {
        throw new UsageError('give --head, --features and --out (or --scores)');
      }
      const out = args.out;
      const r = await withLock(out, () =>
        evaluateHead(args.head!, args.features!, out, { allowModelMismatch: args['allow-model-mismatch'], priorSpoof: prior }),
      );
      const quoted = r.sets[r.sets.length - 1];
      // scores.csv holds the quoted set's scores.
      if (asvspoof5Dir !== null) writeAsvspoof5Files(asvspoof5Dir, readScoresCsv(path.join(out, 'scores.csv')), quoted.prior_spoof!);
      if (args.json) console.log(JSON.stringify(quoted.metrics));
      else printSummary(r, out);
    }),
};
