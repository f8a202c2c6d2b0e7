/**
 * Plots as vega-lite specs, rendered headless to SVG (vega, renderer 'none') and PNG (resvg).
 * Every plot function takes plain numbers and returns a spec, so a Node program can restyle or embed them.
 */
import { Resvg } from '@resvg/resvg-js';
import * as path from 'path';
import * as vega from 'vega';
import { compile, TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../atomic';
import { calibrationBins, ece } from '../metrics/calibration';
import { detCurve as detPoints, eerAsvspoof } from '../metrics/eer';
import { selectivePrediction } from '../metrics/reliability';

export type PlotSpec = TopLevelSpec;

/** A labelled set of P(spoof) scores (labels 1 = spoof). */
export interface ScoredSet {
  name: string;
  probs: ArrayLike<number>;
  labels: ArrayLike<number>;
}

export interface LayerRow {
  layer: number;
  eer: number;
  ece: number;
}

// resvg takes the first family it has: Helvetica/Arial on most desktops, DejaVu Sans on Linux.
const FONT = 'Helvetica, Arial, DejaVu Sans, Liberation Sans, sans-serif';
export const CONFIG = {
  font: FONT,
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom', labelLimit: 0 },
  title: { fontSize: 14, anchor: 'start' },
} as const;
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const pct = (v: number, digits = 2) => `${(100 * v).toFixed(digits)}%`;
/** Colour by set, in the order given (not alphabetical). */
const setColor = (sets: ScoredSet[]) => ({ field: 'set', type: 'nominal', title: null, scale: { domain: sets.map((s) => s.name) } }) as const;

/** Reliability diagrams side by side (e.g. before/after temperature scaling): observed spoof rate per bin of P(spoof). */
export function reliabilityDiagram(panels: ScoredSet[], nBins = 15): PlotSpec {
  const panel = ({ name, probs, labels }: ScoredSet) => {
    const bins = calibrationBins(probs, labels, nBins)
      .filter((b) => b.count > 0)
      .map((b) => ({ ...b, share: b.count / probs.length }));
    const x = { field: 'lo', type: 'quantitative', scale: { domain: [0, 1] }, title: 'predicted P(spoof)' } as const;
    return {
      title: `${name}: ECE ${pct(ece(probs, labels, nBins))}`,
      vconcat: [
        {
          width: 300,
          height: 300,
          layer: [
            {
              data: { values: [{ p: 0 }, { p: 1 }] },
              mark: { type: 'line', strokeDash: [4, 4], color: '#888' },
              encoding: { x: { field: 'p', type: 'quantitative', title: null }, y: { field: 'p', type: 'quantitative' } },
            },
            {
              data: { values: bins },
              mark: { type: 'rect', color: '#4c78a8', opacity: 0.85, stroke: 'white' },
              encoding: {
                x: { ...x, title: null, axis: { labels: false } },
                x2: { field: 'hi' },
                y: { field: 'fracSpoof', type: 'quantitative', scale: { domain: [0, 1] }, title: 'observed fraction spoof' },
                y2: { datum: 0 },
              },
            },
            {
              data: { values: bins },
              mark: { type: 'point', filled: true, color: '#e45756', size: 40 },
              encoding: { x: { field: 'meanP', type: 'quantitative' }, y: { field: 'fracSpoof', type: 'quantitative' } },
            },
          ],
        },
        {
          width: 300,
          height: 70,
          data: { values: bins },
          mark: { type: 'rect', color: '#9d9d9d', stroke: 'white' },
          encoding: {
            x,
            x2: { field: 'hi' },
            y: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '.0%', tickCount: 3 } },
            y2: { datum: 0 },
          },
        },
      ],
    };
  };
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Reliability diagram', subtitle: 'bars: observed spoof rate per bin; red dots at the bin’s mean P; dashed: perfect calibration' },
    hconcat: panels.map(panel),
  } as PlotSpec;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function probit(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => {
    const t = Math.sqrt(-2 * Math.log(q));
    return (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) / ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1);
  };
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < 0.02425) return tail(p);
  if (p > 1 - 0.02425) return -tail(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

const DET_TICKS = [0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.95, 0.99, 0.999];
const DET_MIN = 0.001;

/** Axis on the normal-deviate scale, labelled in percent at DET_TICKS. */
function probitAxis(title: string) {
  // A chain of `abs(value − probit(t)) < 1e-6 ? 'label' : …`: vega expressions cannot call probit.
  const labelExpr = DET_TICKS.map((t) => `abs(datum.value - ${probit(t)}) < 1e-6 ? '${+(100 * t).toPrecision(3)}' : `).join('') + "''";
  return {
    title,
    scale: { domain: [probit(DET_MIN), probit(1 - DET_MIN)], nice: false },
    axis: { values: DET_TICKS.map(probit), tickCount: DET_TICKS.length, labelExpr, labelOverlap: false },
  };
}

/**
 * DET curves (ASVspoof convention) on normal-deviate axes, one per set, with the EER marked. Rates are clipped to
 * [0.1%, 99.9%]; points closer than 0.005 deviates to the last one kept are dropped to keep the SVG small.
 */
export function detCurve(curves: ScoredSet[]): PlotSpec {
  const clip = (v: number) => probit(Math.min(Math.max(v, DET_MIN), 1 - DET_MIN));
  const line: object[] = [];
  const eers: object[] = [];
  for (const { name, probs, labels } of curves) {
    const { miss, falseAlarm } = detPoints(probs, labels);
    let last: [number, number] | null = null;
    for (let k = 0; k < miss.length; k++) {
      const p: [number, number] = [clip(falseAlarm[k]), clip(miss[k])];
      if (last && Math.hypot(p[0] - last[0], p[1] - last[1]) < 0.005 && k !== miss.length - 1) continue;
      line.push({ set: name, k, fa: p[0], miss: p[1] });
      last = p;
    }
    const eer = eerAsvspoof(probs, labels);
    eers.push({ set: name, fa: clip(eer), miss: clip(eer), label: `EER ${pct(eer)}` });
  }
  const diag = [DET_MIN, 1 - DET_MIN].map((v) => ({ fa: probit(v), miss: probit(v) }));
  const color = setColor(curves);
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'DET curve', subtitle: 'lower left is better; dots mark the EER (ASVspoof convention)' },
    width: 420,
    height: 420,
    layer: [
      {
        data: { values: diag },
        mark: { type: 'line', strokeDash: [4, 4], color: '#aaa' },
        encoding: {
          x: { field: 'fa', type: 'quantitative', ...probitAxis('bona fide flagged as spoof (%)') },
          y: { field: 'miss', type: 'quantitative', ...probitAxis('spoof missed (%)') },
        },
      },
      {
        data: { values: line },
        mark: { type: 'line', clip: true, strokeWidth: 2 },
        encoding: {
          x: { field: 'fa', type: 'quantitative' },
          y: { field: 'miss', type: 'quantitative' },
          order: { field: 'k' },
          color,
        },
      },
      {
        data: { values: eers },
        layer: [
          { mark: { type: 'point', filled: true, size: 60 }, encoding: { color } },
          { mark: { type: 'text', align: 'left', dx: 8, dy: -8, fontSize: 12 }, encoding: { text: { field: 'label' } } },
        ],
        encoding: { x: { field: 'fa', type: 'quantitative' }, y: { field: 'miss', type: 'quantitative' } },
      },
    ],
  } as PlotSpec;
}

/** The paper's reliability experiment: accuracy of the decisions kept vs the fraction kept, as the threshold on r rises. */
export function selectivePredictionCurve(curves: ScoredSet[], steps = 100): PlotSpec {
  const values = curves.flatMap(({ name, probs, labels }) =>
    selectivePrediction(probs, labels, steps)
      .filter((p) => p.accuracy !== null)
      .map((p) => ({ set: name, ...p })),
  );
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Selective prediction', subtitle: 'keep the decisions with confidence r = 1 − H(p)/ln 2 above a threshold swept from 0 to 1' },
    width: 420,
    height: 300,
    data: { values },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: { field: 'fractionKept', type: 'quantitative', title: 'fraction of decisions kept', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy on kept decisions', scale: { zero: false }, axis: { format: '.0%' } },
      order: { field: 'threshold' },
      color: setColor(curves),
    },
  } as PlotSpec;
}

/** EER and ECE per layer, the best (lowest-EER) layer labelled. */
export function layerwiseChart(rows: LayerRow[], title = 'Layer-wise detection'): PlotSpec {
  const best = rows.reduce((a, b) => (b.eer < a.eer ? b : a), rows[0]);
  const values = rows.map((r) => ({ ...r, eerPct: 100 * r.eer, ecePct: 100 * r.ece }));
  const panel = (field: string, axisTitle: string, color: string, mark: boolean) => ({
    width: 480,
    height: 180,
    layer: [
      {
        mark: { type: 'line', point: { color }, color, strokeWidth: 2 },
        encoding: {
          x: { field: 'layer', type: 'ordinal', title: 'layer', axis: { labelAngle: 0 } },
          y: { field, type: 'quantitative', title: axisTitle, scale: { zero: true } },
        },
      },
      ...(mark
        ? [
            {
              transform: [{ filter: `datum.layer === ${best?.layer}` }],
              layer: [
                { mark: { type: 'point', filled: true, size: 120, color: '#e45756' } },
                { mark: { type: 'text', align: 'left', dx: 10, dy: -10, fontSize: 12, fontWeight: 'bold' }, encoding: { text: { field: 'label' } } },
              ],
              encoding: { x: { field: 'layer', type: 'ordinal' }, y: { field, type: 'quantitative' } },
            },
          ]
        : []),
    ],
  });
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: best ? `lowest EER: layer ${best.layer} (${pct(best.eer)})` : '' },
    data: { values: values.map((v) => ({ ...v, label: `${v.eerPct.toFixed(2)}%` })) },
    vconcat: [panel('eerPct', 'EER (%)', '#4c78a8', true), panel('ecePct', 'ECE (%)', '#f58518', false)],
  } as PlotSpec;
}

/**
 * Text width for layout. Without a canvas vega guesses 0.8 em per character, which leaves wide empty margins;
 * these per-character widths follow DejaVu Sans (Helvetica is a little narrower).
 */
function textWidth(item: { text?: unknown; fontSize?: number; fontWeight?: string | number }, text?: unknown): number {
  const s = String(text ?? item.text ?? '');
  let em = 0;
  for (const ch of s) {
    if (ch === ' ') em += 0.32;
    else if (/[0-9]/.test(ch)) em += 0.64;
    else if (/[iljft.,:;'|!()[\]]/.test(ch)) em += 0.34;
    else if (/[mwMW%]/.test(ch)) em += 0.95;
    else if (/[A-Z]/.test(ch)) em += 0.72;
    else em += 0.6;
  }
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  return em * (item.fontSize ?? 11) * (bold ? 1.08 : 1);
}

/** vega-lite spec → SVG text, rendered headless. */
export async function renderSvg(spec: PlotSpec): Promise<string> {
  // vega's typings omit textMetrics, the documented hook for custom text measurement (vl-convert uses it).
  const metrics = (vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics;
  const previous = metrics.width;
  metrics.width = textWidth;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
    metrics.width = previous;
  }
}

/** SVG → raster image at `scale`×, text in system fonts. */
export function rasterize(svg: string, scale = 2) {
  return new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  }).render();
}

/** SVG → PNG at `scale`×. */
export function renderPng(svg: string, scale = 2): Buffer {
  return rasterize(svg, scale).asPng();
}

/** Writes `<dir>/<name>.svg` and `<dir>/<name>.png`; returns their paths. */
export async function writePlot(dir: string, name: string, spec: PlotSpec): Promise<{ svg: string; png: string }> {
  const svg = await renderSvg(spec);
  const files = { svg: path.join(dir, `${name}.svg`), png: path.join(dir, `${name}.png`) };
  writeFileAtomic(files.svg, svg);
  writeFileAtomic(files.png, renderPng(svg));
  return files;
}
