/** The eval report: a directory with report.json, report.md, scores.csv and the plots (SVG + PNG). */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic';
import { readCsv } from '../data/csv';
import { assertBothClasses, countClasses } from '../data/labels';
import { UsageError } from '../errors';
import { indexFile } from '../features/store';
import { bootstrapIntervals, BootstrapOptions, BootstrapReport, IntervalMetric } from '../metrics/bootstrap';
import { calibrationBins, CalibrationBin } from '../metrics/calibration';
import { asvspoof5Metrics, Asvspoof5Metrics } from '../metrics/asvspoof5';
import { selectivePrediction, SelectivePoint } from '../metrics/reliability';
import { readScoresCsv, writeScoresCsv } from '../metrics/scores';
import { computeMetrics, Metrics } from '../metrics/summary';
import { featureSetName } from '../probe/feature-set';
import { Head, headPrior, readHead, scoreStore } from '../probe/head';
import { detCurve, reliabilityDiagram, ScoredSet, selectivePredictionCurve, writePlot } from './plots';

export interface SetReport {
  name: string;
  /** The spoof prior the scores are posteriors under (for the LLRs of the ASVspoof 5 metrics); null if unknown. */
  prior_spoof: number | null;
  metrics: Metrics & Asvspoof5Metrics;
  reliability_bins: CalibrationBin[];
  selective_prediction: SelectivePoint[];
}

export interface EvalReport {
  /** Where the scores came from: head and features, or a score file. */
  source: Record<string, unknown>;
  n: number;
  n_bona: number;
  n_spoof: number;
  /** One entry per score set; the last is the one to quote (calibrated when there is calibration). */
  sets: SetReport[];
  /** Intervals of the quoted set's metrics (eval --bootstrap); null when not asked for. */
  bootstrap: (BootstrapReport & { set: string }) | null;
  plots: string[];
}

/** What eval --bootstrap asks for, with each row's speaker when resampling by speaker. */
export interface BootstrapRequest {
  options: BootstrapOptions;
  speakers: string[] | null;
}

/** The `speaker` column of a CSV file (a store's index.csv, a score file) when `options` resample by speaker. */
export function bootstrapRequest(options: BootstrapOptions, csvFile: string): BootstrapRequest {
  if (options.by !== 'speaker') return { options, speakers: null };
  const { header, rows } = readCsv(csvFile);
  if (!header.includes('speaker')) throw new UsageError(`--bootstrap-by speaker needs a speaker column, and ${csvFile} has none`);
  return { options, speakers: rows.map((r) => r.speaker) };
}

const fmtPct = (v: number) => `${(100 * v).toFixed(2)}%`;
/** A metric to 4 decimals, or — where it is unknown (an ASVspoof 5 metric without a prior). */
export const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(4));

function markdown(title: string, r: EvalReport): string {
  const rows: [string, (m: SetReport['metrics']) => string][] = [
    ['EER (ASVspoof)', (m) => fmtPct(m.eer_asvspoof)],
    ['EER (ROC, interpolated)', (m) => fmtPct(m.eer_roc_interpolated)],
    ['ROC AUC', (m) => fmt(m.auc)],
    ['ECE (15 bins)', (m) => fmtPct(m.ece_15)],
    ['Brier', (m) => fmt(m.brier)],
    ['NLL', (m) => fmt(m.nll)],
    ['accuracy at P = 0.5', (m) => fmtPct(m['accuracy_at_0.5'])],
    ['minDCF (ASVspoof 5)', (m) => fmt(m.min_dcf)],
    ['actDCF (ASVspoof 5)', (m) => fmt(m.act_dcf)],
    ['Cllr (bits)', (m) => fmt(m.cllr)],
    ['min Cllr (bits)', (m) => fmt(m.min_cllr)],
  ];
  const lines = [`# ${title}`, ''];
  // Scalars as they are; objects (training, calibration summaries) one level deep on one line.
  const show = (v: unknown): string =>
    v !== null && typeof v === 'object'
      ? Object.entries(v)
          .filter(([, x]) => x !== null && typeof x !== 'object')
          .map(([k, x]) => `${k} ${x}`)
          .join(', ')
      : String(v);
  for (const [k, v] of Object.entries(r.source)) if (v !== null) lines.push(`- ${k}: ${show(v)}`);
  lines.push(`- rows: ${r.n} (${r.n_bona} bona fide, ${r.n_spoof} spoof)`, '');
  lines.push(`| metric | ${r.sets.map((s) => s.name).join(' | ')} |`, `|---|${r.sets.map(() => '---:').join('|')}|`);
  for (const [name, f] of rows) lines.push(`| ${name} | ${r.sets.map((s) => f(s.metrics)).join(' | ')} |`);
  lines.push('');
  const b = r.bootstrap;
  if (b) {
    const shown: [IntervalMetric, string, (v: number) => string][] = [
      ['eer_asvspoof', 'EER (ASVspoof)', fmtPct],
      ['min_dcf', 'minDCF', fmt],
      ['act_dcf', 'actDCF', fmt],
      ['cllr', 'Cllr (bits)', fmt],
      ['ece_15', 'ECE (15 bins)', fmtPct],
    ];
    lines.push(
      `${100 * b.level} % bootstrap intervals (${b.set}; ${b.n} resamples by ${b.by}, seed ${b.seed}, ${b.redrawn} redrawn for holding one class):`,
      '',
      '| metric | interval |',
      '|---|---:|',
    );
    for (const [k, name, f] of shown) {
      const v = b.intervals[k];
      lines.push(`| ${name} | ${v ? `${f(v[0])} – ${f(v[1])}` : '—'} |`);
    }
    lines.push('');
  }
  for (const p of r.plots) lines.push(`![${p}](${p}.png)`, '');
  return lines.join('\n');
}

/**
 * Computes the metrics of each score set (same rows, same labels) and writes the report into `outDir`.
 * `ids` and the last set's scores go to scores.csv.
 */
export async function writeEvalReport(
  outDir: string,
  input: {
    title: string;
    source: Record<string, unknown>;
    ids: string[];
    labels: Uint8Array;
    sets: { name: string; probs: Float64Array; priorSpoof: number | null }[];
    bootstrap?: BootstrapRequest | null;
  },
): Promise<EvalReport> {
  const { labels } = input;
  assertBothClasses(labels, undefined, 'an evaluation report');
  const counts = countClasses(labels);
  const scored: ScoredSet[] = input.sets.map((s) => ({ name: s.name, probs: s.probs, labels }));
  const priors = input.sets.map((s) => s.priorSpoof);
  const report: EvalReport = {
    source: input.source,
    n: labels.length,
    n_bona: counts.bona,
    n_spoof: counts.spoof,
    sets: scored.map((s, i) => ({
      name: s.name,
      prior_spoof: priors[i],
      metrics: { ...computeMetrics(s.probs, labels), ...asvspoof5Metrics(s.probs, labels, priors[i]) },
      reliability_bins: calibrationBins(s.probs, labels, 15),
      selective_prediction: selectivePrediction(s.probs, labels),
    })),
    bootstrap: null,
    plots: ['reliability', 'det', 'selective'],
  };
  const quoted = input.sets[input.sets.length - 1];
  if (input.bootstrap) {
    const { options, speakers } = input.bootstrap;
    report.bootstrap = { set: quoted.name, ...bootstrapIntervals(quoted.probs, labels, quoted.priorSpoof, options, speakers) };
  }
  fs.mkdirSync(outDir, { recursive: true });
  await writePlot(outDir, 'reliability', reliabilityDiagram(scored));
  // Calibration maps are monotone, so every set has the same DET curve: draw the one quoted.
  await writePlot(outDir, 'det', detCurve(scored.slice(-1)));
  await writePlot(outDir, 'selective', selectivePredictionCurve(scored));
  writeScoresCsv(path.join(outDir, 'scores.csv'), { ids: input.ids, labels, scores: quoted.probs }, quoted.priorSpoof);
  // NaN (empty bins) is not JSON: write it as null.
  writeFileAtomic(path.join(outDir, 'report.json'), JSON.stringify(report, (_k, v) => (Number.isNaN(v) ? null : v), 1) + '\n');
  writeFileAtomic(path.join(outDir, 'report.md'), markdown(input.title, report));
  return report;
}

const isCalibrated = (h: Head) => h.platt !== null || h.temperature !== 1;

/**
 * Scores a feature store with a head file and writes the report (before and after calibration when calibrated).
 * `priorSpoof` replaces the head's priors (headPrior; the training prior for the uncalibrated scores).
 */
export async function evaluateHead(
  headFile: string,
  storeDir: string,
  outDir: string,
  opts: { allowModelMismatch?: boolean; priorSpoof?: number; bootstrap?: BootstrapOptions } = {},
): Promise<EvalReport> {
  const bootstrap = opts.bootstrap ? bootstrapRequest(opts.bootstrap, indexFile(storeDir)) : null;
  const head = readHead(headFile);
  const s = scoreStore(head, storeDir, opts);
  assertBothClasses(s.labels, path.join(storeDir, 'index.csv'), 'evaluation');
  const sets = isCalibrated(head)
    ? [
        { name: 'uncalibrated', probs: s.uncalibrated, priorSpoof: opts.priorSpoof ?? headPrior({ ...head, calibration: null }) },
        {
          name: head.platt ? 'Platt-scaled' : `temperature-scaled (T = ${head.temperature.toPrecision(4)})`,
          probs: s.probs,
          priorSpoof: opts.priorSpoof ?? headPrior(head),
        },
      ]
    : [{ name: 'head', probs: s.probs, priorSpoof: opts.priorSpoof ?? headPrior(head) }];
  return writeEvalReport(outDir, {
    title: `wavprobe eval: ${head.features.layers.length > 1 ? 'layers' : 'layer'} ${featureSetName(head.features)}${head.model ? ` of ${head.model}` : ''}`,
    source: {
      head: path.resolve(headFile),
      features: path.resolve(storeDir),
      model: head.model,
      layer: head.layer,
      pooling: head.pooling,
      temperature: head.temperature,
      platt: head.platt,
      training: head.training,
      calibration: head.calibration,
    },
    ids: s.ids,
    labels: s.labels,
    sets,
    bootstrap,
  });
}

/** Writes the report of a score file (id,label,score) whose scores are posteriors under `priorSpoof` (null: unknown). */
export async function evaluateScores(
  scoresFile: string,
  outDir: string,
  priorSpoof: number | null = null,
  bootstrap?: BootstrapOptions,
): Promise<EvalReport> {
  const request = bootstrap ? bootstrapRequest(bootstrap, scoresFile) : null;
  const set = readScoresCsv(scoresFile);
  assertBothClasses(set.labels, scoresFile, 'evaluation');
  return writeEvalReport(outDir, {
    title: `wavprobe eval: ${path.basename(scoresFile)}`,
    source: { scores: path.resolve(scoresFile) },
    ids: set.ids,
    labels: set.labels,
    sets: [{ name: 'scores', probs: set.scores, priorSpoof }],
    bootstrap: request,
  });
}

/** The intervals of a score file's metrics, without a report (eval --scores --bootstrap without --out). */
export function bootstrapScoresFile(scoresFile: string, priorSpoof: number | null, options: BootstrapOptions): BootstrapReport {
  const { speakers } = bootstrapRequest(options, scoresFile);
  const set = readScoresCsv(scoresFile);
  return bootstrapIntervals(set.scores, set.labels, priorSpoof, options, speakers);
}
