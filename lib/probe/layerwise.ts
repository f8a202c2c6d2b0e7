/**
 * Layer-wise probing, the paper's experiment: one head per layer (or feature set) of a training store, each scored
 * on every evaluation store, before and after calibration; with a bootstrap, the EER's 95 % interval too.
 */
import * as path from 'path';
import { listLayers } from '../features/store';
import { llrsFromProbs, minDcf } from '../metrics/asvspoof5';
import { bootstrapIntervals } from '../metrics/bootstrap';
import { computeMetrics, Metrics } from '../metrics/summary';
import { FeaturePool, FeatureSet, featureSetName } from './feature-set';
import { Head, TrainHeadOptions, scoreStore, trainHead } from './head';

/** The metric set plus ASVspoof 5's min_dcf, which needs no prior (a prior shifts every LLR alike). */
export type ProbeMetrics = Metrics & { min_dcf: number };

export interface LayerEval {
  /** Calibrated P(spoof) (equal to `uncalibrated` when no calibration set was given). */
  calibrated: ProbeMetrics;
  uncalibrated: ProbeMetrics;
  /** With `bootstrap`: the 95 % percentile interval of the calibrated EER, resampling files. */
  eer_interval?: [number, number];
}

const probeMetrics = (probs: Float64Array, labels: Uint8Array): ProbeMetrics => ({
  ...computeMetrics(probs, labels),
  min_dcf: minDcf(llrsFromProbs(probs, 0.5), labels),
});

export interface LayerResult {
  /** The deepest layer of `features` (the layer itself for one layer). */
  layer: number;
  features: FeatureSet;
  /** The row's name in tables: featureSetName. */
  label: string;
  head: Head;
  /** By evaluation store name. */
  eval: Record<string, LayerEval>;
}

export interface ProbeOptions extends TrainHeadOptions {
  /** One row per feature set (default: every layer of the training store on its own, pooled by `pool`). */
  sets?: FeatureSet[];
  /** Pooling of the default sets (default mean). */
  pool?: FeaturePool;
  /**
   * Resamples and seed of the EER intervals. Every row and store is resampled with the same seed, so rows are
   * compared on the same resamples of a store.
   */
  bootstrap?: { n: number; seed: number };
  onLayer?: (label: string, index: number, count: number) => void;
}

/** A store's name in reports: its folder name, made unique with its parent's when two collide. */
export function storeNames(dirs: string[]): string[] {
  const base = dirs.map((d) => path.basename(path.resolve(d)));
  return dirs.map((d, i) =>
    base.filter((b) => b === base[i]).length > 1 ? path.join(path.basename(path.dirname(path.resolve(d))), base[i]) : base[i],
  );
}

export function probeLayers(trainStore: string, evalStores: string[], opts: ProbeOptions = {}): LayerResult[] {
  const sets = opts.sets ?? listLayers(trainStore).map((k): FeatureSet => ({ layers: [k], combine: 'concat', pool: opts.pool ?? 'mean' }));
  const names = storeNames(evalStores);
  const b = opts.bootstrap;
  return sets.map((features, i) => {
    const label = featureSetName(features);
    opts.onLayer?.(label, i, sets.length);
    const head = trainHead(trainStore, features, opts);
    const evals: Record<string, LayerEval> = {};
    evalStores.forEach((dir, j) => {
      const s = scoreStore(head, dir, opts);
      evals[names[j]] = { calibrated: probeMetrics(s.probs, s.labels), uncalibrated: probeMetrics(s.uncalibrated, s.labels) };
      if (b) {
        const r = bootstrapIntervals(s.probs, s.labels, null, { n: b.n, seed: b.seed, by: 'file', metrics: ['eer_asvspoof'] });
        evals[names[j]].eer_interval = r.intervals.eer_asvspoof!;
      }
    });
    return { layer: head.layer, features, label, head, eval: evals };
  });
}

/**
 * The `probe --json` shape: `{"layers": [{"layer": k, "features": "5,7", "eval": {"<store>": {<metrics>}}}]}`
 * (calibrated metrics, with `eer_interval` under a bootstrap).
 */
export function probeJson(results: LayerResult[]): { layers: { layer: number; features: string; eval: Record<string, ProbeMetrics> }[] } {
  return {
    layers: results.map((r) => ({
      layer: r.layer,
      features: r.label,
      eval: Object.fromEntries(
        Object.entries(r.eval).map(([name, e]) => [name, e.eer_interval ? { ...e.calibrated, eer_interval: e.eer_interval } : e.calibrated]),
      ),
    })),
  };
}

/** EER in %, with its interval when there is one: `3.21 [2.10, 4.50]`. */
export function eerCell(e: LayerEval): string {
  const pct = (v: number) => (100 * v).toFixed(2);
  return e.eer_interval ? `${pct(e.calibrated.eer_asvspoof)} [${pct(e.eer_interval[0])}, ${pct(e.eer_interval[1])}]` : pct(e.calibrated.eer_asvspoof);
}

/** A Markdown table: one row per layer (or feature set), EER and ECE (before → after calibration) per evaluation store. */
export function probeTable(results: LayerResult[], extraRows: { label: string; result: LayerResult }[] = []): string {
  const names = Object.keys(results[0]?.eval ?? {});
  const pct = (v: number) => `${(100 * v).toFixed(2)}`;
  const ci = results.some((r) => Object.values(r.eval).some((e) => e.eer_interval)) ? ' [95 % CI]' : '';
  const head = ['layer', ...names.flatMap((n) => [`${n} EER %${ci}`, `${n} ECE % (raw → calibrated)`])];
  const row = (label: string, r: LayerResult) =>
    `| ${label} | ${names.flatMap((n) => [eerCell(r.eval[n]), `${pct(r.eval[n].uncalibrated.ece_15)} → ${pct(r.eval[n].calibrated.ece_15)}`]).join(' | ')} |`;
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...results.map((r) => row(r.label, r)),
    ...extraRows.map((x) => row(x.label, x.result)),
  ].join('\n');
}
