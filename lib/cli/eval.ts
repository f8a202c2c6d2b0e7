import * as path from 'path';
import type { CommandModule } from 'yargs';
import { UsageError } from '../errors';
import { checkPrior } from '../metrics/asvspoof5';
import { BootstrapOptions, BootstrapReport, checkBootstrapOptions } from '../metrics/bootstrap';
import { evaluateScoresFile, readScoresCsv, writeAsvspoof5Files } from '../metrics/scores';
import { bootstrapScoresFile, evaluateHead, evaluateScores, EvalReport, fmt } from '../report/report';
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
  bootstrap?: number;
  seed?: number;
  'bootstrap-by'?: string;
}

/** The bootstrap options, or undefined when --bootstrap is not given (--seed and --bootstrap-by alone are refused). */
function bootstrapOptions(args: EvalArgs): BootstrapOptions | undefined {
  if (args.bootstrap === undefined) {
    if (args.seed !== undefined || args['bootstrap-by'] !== undefined) throw new UsageError('--seed and --bootstrap-by go with --bootstrap N');
    return undefined;
  }
  return checkBootstrapOptions({ n: args.bootstrap, seed: args.seed ?? 0, by: (args['bootstrap-by'] ?? 'file') as BootstrapOptions['by'] });
}

/** eval --json: the quoted metrics, with the intervals and how they were drawn when asked for. */
function jsonLine(metrics: object, b: BootstrapReport | null): string {
  if (!b) return JSON.stringify(metrics);
  const { intervals, ...how } = b;
  return JSON.stringify({ ...metrics, intervals, bootstrap: how });
}

function printIntervals(b: BootstrapReport): void {
  const shown = Object.entries(b.intervals)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} [${v![0].toFixed(4)}, ${v![1].toFixed(4)}]`);
  console.log(`${100 * b.level} % intervals (${b.n} resamples by ${b.by}, seed ${b.seed}, ${b.redrawn} redrawn): ${shown.join(', ')}`);
}

function printSummary(r: EvalReport, out: string): void {
  for (const s of r.sets) {
    const m = s.metrics;
    console.log(
      `${s.name}: EER ${(100 * m.eer_asvspoof).toFixed(2)}% (ROC-interpolated ${(100 * m.eer_roc_interpolated).toFixed(2)}%), ` +
        `AUC ${m.auc.toFixed(4)}, ECE ${(100 * m.ece_15).toFixed(2)}%, NLL ${m.nll.toFixed(4)}, ` +
        `minDCF ${fmt(m.min_dcf)}, actDCF ${fmt(m.act_dcf)}, Cllr ${fmt(m.cllr)}, min Cllr ${fmt(m.min_cllr)}`,
    );
  }
  if (r.bootstrap) printIntervals(r.bootstrap);
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
      .option('bootstrap', { type: 'number', describe: 'N: 95 % percentile intervals of EER, min_dcf, act_dcf, cllr and ECE from N resamples' })
      .option('seed', { type: 'number', describe: 'seed of the bootstrap resampling (default 0)' })
      .option('bootstrap-by', {
        type: 'string',
        choices: ['file', 'speaker'],
        describe: "resample files (default) or whole speakers (needs a speaker column in the store's index.csv or the score file)",
      })
      .option('allow-model-mismatch', ALLOW_MODEL_MISMATCH),
  handler: (args) =>
    runCommand('eval', async () => {
      const prior = args['prior-spoof'] === undefined ? undefined : checkPrior(args['prior-spoof'], '--prior-spoof');
      const asvspoof5Dir = writeScoresDir(args['write-scores']);
      const bootstrap = bootstrapOptions(args);
      if (args.scores !== undefined) {
        if (args.head !== undefined || args.features !== undefined) throw new UsageError('give either --scores, or --head with --features');
        if (prior === undefined && asvspoof5Dir !== null) throw new UsageError('--write-scores asvspoof5 needs --prior-spoof (its scores are LLRs)');
        if (args.out !== undefined) {
          const r = await evaluateScores(args.scores, args.out, prior ?? null, bootstrap);
          if (args.json) console.log(jsonLine(r.sets[0].metrics, r.bootstrap));
          else printSummary(r, args.out);
        } else {
          const m = evaluateScoresFile(args.scores, prior ?? null);
          const b = bootstrap ? bootstrapScoresFile(args.scores, prior ?? null, bootstrap) : null;
          if (args.json) console.log(jsonLine(m, b));
          else {
            for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(22)} ${v}`);
            if (b) printIntervals(b);
          }
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
        evaluateHead(args.head!, args.features!, out, { allowModelMismatch: args['allow-model-mismatch'], priorSpoof: prior, bootstrap }),
      );
      const quoted = r.sets[r.sets.length - 1];
      // scores.csv holds the quoted set's scores.
      if (asvspoof5Dir !== null) writeAsvspoof5Files(asvspoof5Dir, readScoresCsv(path.join(out, 'scores.csv')), quoted.prior_spoof!);
      if (args.json) console.log(jsonLine(quoted.metrics, r.bootstrap));
      else printSummary(r, out);
    }),
};
