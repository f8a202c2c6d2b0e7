/**
 * Layer-wise probing, the paper's experiment: one head per layer of a training store, each scored on every
 * evaluation store, before and after calibration.
 */
import * as path from 'path';
import { listLayers } from '../features/store';
import { llrsFromProbs, minDcf } from '../metrics/asvspoof5';
import { computeMetrics, Metrics } from '../metrics/summary';
import { Head, TrainHeadOptions, scoreStore, trainHead } from './head';

/** The metric set plus ASVspoof 5's min_dcf, which needs no prior (a prior shifts every LLR alike). */
export type ProbeMetrics = Metrics & { min_dcf: number };

export interface LayerEval {
  /** Calibrated P(spoof) (equal to `uncalibrated` when no calibration set was given). */
  calibrated: ProbeMetrics;
  uncalibrated: ProbeMetrics;
}

const probeMetrics = (probs: Float64Array, labels: Uint8Array): ProbeMetrics => ({
  ...computeMetrics(probs, labels),
  min_dcf: minDcf(llrsFromProbs(probs, 0.5), labels),
});

export interface LayerResult {
  layer: number;
  head: Head;
  /** By evaluation store name. */
  eval: Record<string, LayerEval>;
}

export interface ProbeOptions extends TrainHeadOptions {
  /** Only these layers (default: every layer of the training store). */
  layers?: number[];
  onLayer?: (layer: number, index: number, count: number) => void;
}

/** A store's name in reports: its folder name, made unique with its parent's when two collide. */
export function storeNames(dirs: string[]): string[] {
  const base = dirs.map((d) => path.basename(path.resolve(d)));
  return dirs.map((d, i) =>
    base.filter((b) => b === base[i]).length > 1 ? path.join(path.basename(path.dirname(path.resolve(d))), base[i]) : base[i],
  );
}

export function probeLayers(trainStore: string, evalStores: string[], opts: ProbeOptions = {}): LayerResult[] {
  const layers = opts.layers ?? listLayers(trainStore);
  const names = storeNames(evalStores);
  return layers.map((layer, i) => {
    opts.onLayer?.(layer, i, layers.length);
    const head = trainHead(trainStore, layer, opts);
    const evals: Record<string, LayerEval> = {};
    evalStores.forEach((dir, j) => {
      const s = scoreStore(head, dir, opts);
      evals[names[j]] = { calibrated: probeMetrics(s.probs, s.labels), uncalibrated: probeMetrics(s.uncalibrated, s.labels) };
    });
    return { layer, head, eval: evals };
  });
}

/** The `probe --json` shape: `{"layers": [{"layer": k, "eval": {"<store>": {<metrics>}}}]}` (calibrated metrics). */
export function probeJson(results: LayerResult[]): { layers: { layer: number; eval: Record<string, ProbeMetrics> }[] } {
  return {
    layers: results.map((r) => ({
      layer: r.layer,
      eval: Object.fromEntries(Object.entries(r.eval).map(([name, e]) => [name, e.calibrated])),
    })),
  };
}

/** A Markdown table: one row per layer, EER and ECE (before → after calibration) per evaluation store. */
export function probeTable(results: LayerResult[], extraRows: { label: string; result: LayerResult }[] = []): string {
  const names = Object.keys(results[0]?.eval ?? {});
  const pct = (v: number) => `${(100 * v).toFixed(2)}`;
  const head = ['layer', ...names.flatMap((n) => [`${n} EER %`, `${n} ECE % (raw → calibrated)`])];
  const row = (label: string, r: LayerResult) =>
    `| ${label} | ${names.flatMap((n) => [pct(r.eval[n].calibrated.eer_asvspoof), `${pct(r.eval[n].uncalibrated.ece_15)} → ${pct(r.eval[n].calibrated.ece_15)}`]).join(' | ')} |`;
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...results.map((r) => row(String(r.layer), r)),
    ...extraRows.map((x) => row(x.label, x.result)),
  ].join('\n');
}
