/**
 * Pictures of a model's insides for one input (`wavprobe inspect --plots`): layer similarity (CKA), per-layer
 * activation norm and attention entropy, attention maps, the conv feature encoder's output and the waveform with
 * its frame grid. Spec functions take plain numbers; writeInsidePlots draws them all from a forward output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ForwardOutput, LayerStats, receptiveField } from '../models';
import { ModelConfig } from '../weights/config';
import { CONFIG, PlotSpec, SCHEMA, writePlot } from './plots';

/** A heatmap cell: its extent in data units and its value. */
interface Cell {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  v: number;
}

/** A [rows, cols] row-major map averaged over blocks to at most maxRows × maxCols cells (columns scaled by xScale). */
function pooledCells(map: ArrayLike<number>, rows: number, cols: number, maxRows: number, maxCols: number, xScale = 1): Cell[] {
  const rb = Math.ceil(rows / maxRows);
  const cb = Math.ceil(cols / maxCols);
  const cells: Cell[] = [];
  for (let r0 = 0; r0 < rows; r0 += rb) {
    const r1 = Math.min(rows, r0 + rb);
    for (let c0 = 0; c0 < cols; c0 += cb) {
      const c1 = Math.min(cols, c0 + cb);
      let s = 0;
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) s += map[r * cols + c];
      cells.push({ x0: c0 * xScale, x1: c1 * xScale, y0: r0, y1: r1, v: s / ((r1 - r0) * (c1 - c0)) });
    }
  }
  return cells;
}

/**
 * Heatmap cells stroked in their own colour: antialiased edges of adjacent rects otherwise leave light seams. The
 * stroke's legend merges into the fill's (same field and title; drawn as symbols); `legend: null` would hide both.
 */
const seamless = (scheme: string, title: string) => ({ stroke: { field: 'v', type: 'quantitative', title, scale: { scheme } } }) as const;
const ms = (seconds: number) => `${+(1000 * seconds).toFixed(2)} ms`;
/** Room on the right for a legend title. */
const PADDING = { left: 5, top: 5, right: 20, bottom: 5 };

/**
 * CKA between every pair of hidden states, values written in the cells when they fit. When every value is close to
 * 1 (a model whose layers barely change the residual stream, such as a randomly initialised one) the colour scale
 * starts at the smallest value and the cells show enough digits to tell the layers apart.
 */
export function ckaHeatmap(m: number[][]): PlotSpec {
  const values = m.flatMap((row, a) => row.map((v, b) => ({ a, b, v })));
  const lo = Math.min(...values.map((x) => x.v));
  const zoom = lo > 0.9 && lo < 1;
  const domain = zoom ? [lo, 1] : [0, 1];
  const digits = zoom ? Math.min(5, Math.ceil(-Math.log10(1 - lo)) + 1) : 2;
  const size = Math.max(240, 28 * m.length);
  const axis = (title: string) => ({ type: 'ordinal', title, axis: { labelAngle: 0 } }) as const;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Layer similarity (linear CKA)',
      subtitle: `hidden state 0 is the encoder input; frames as samples, each state centred over frames${zoom ? `; colours from ${lo.toFixed(digits)} to 1` : ''}`,
    },
    width: size,
    height: size,
    data: { values },
    encoding: { x: { field: 'b', ...axis('hidden state') }, y: { field: 'a', ...axis('hidden state') } },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'v', type: 'quantitative', title: 'CKA', scale: { scheme: 'viridis', domain }, legend: { orient: 'right' } },
        },
      },
      ...(m.length <= 16
        ? [
            {
              mark: { type: 'text', fontSize: 9 },
              encoding: {
                text: { field: 'v', type: 'quantitative', format: `.${digits}f` },
                color: { condition: { test: `datum.v > ${domain[0] + 0.6 * (domain[1] - domain[0])}`, value: 'black' }, value: 'white' },
              },
            },
          ]
        : []),
    ],
  } as PlotSpec;
}

/** Mean frame norm and element std of every hidden state. */
export function activationChart(stats: LayerStats[]): PlotSpec {
  const values = stats.flatMap((s) => [
    { layer: s.layer, stat: 'mean frame L2 norm', v: s.frameNorm },
    { layer: s.layer, stat: 'std of elements', v: s.std },
  ]);
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Activations per layer', subtitle: 'over the valid frames; hidden state 0 is the encoder input' },
    data: { values },
    facet: { row: { field: 'stat', type: 'nominal', title: null, sort: ['mean frame L2 norm', 'std of elements'] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 420,
      height: 150,
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: {
        x: { field: 'layer', type: 'ordinal', title: 'hidden state (layer)', axis: { labelAngle: 0 } },
        y: { field: 'v', type: 'quantitative', title: null, scale: { zero: false } },
      },
    },
  } as PlotSpec;
}

/** Mean attention entropy of every head per layer, their mean as a line, ln T (uniform attention) dashed. */
export function attentionEntropyChart(stats: LayerStats[], frames: number): PlotSpec {
  const heads = stats.flatMap((s) => (s.attentionEntropy ?? []).map((e, h) => ({ layer: s.layer, head: `head ${h}`, e })));
  const means = stats
    .filter((s) => s.attentionEntropy)
    .map((s) => ({ layer: s.layer, e: s.attentionEntropy!.reduce((a, b) => a + b, 0) / s.attentionEntropy!.length }));
  const x = { field: 'layer', type: 'ordinal', title: 'layer', axis: { labelAngle: 0 } } as const;
  const y = { field: 'e', type: 'quantitative', title: 'attention entropy (nats)' } as const;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Attention entropy per head',
      subtitle: `mean over valid query frames; dashed: ln T = ${Math.log(frames).toFixed(2)} (uniform over the first row's ${frames} frames)`,
    },
    width: 420,
    height: 260,
    layer: [
      {
        data: { values: heads },
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { x, y, color: { field: 'head', type: 'nominal', title: null } },
      },
      { data: { values: means }, mark: { type: 'line', color: '#333', strokeWidth: 2 }, encoding: { x, y } },
      { data: { values: [{ e: Math.log(frames) }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y } },
    ],
  } as PlotSpec;
}

export interface AttentionPanel {
  name: string;
  /** [T, T] probabilities, query × key. */
  map: ArrayLike<number>;
}

/** Attention maps as a grid of small heatmaps (queries down, keys across), averaged to at most 64 × 64 cells. */
export function attentionGrid(panels: AttentionPanel[], frames: number, title: string, subtitle: string): PlotSpec {
  const values = panels.flatMap((p) => pooledCells(p.map, frames, frames, 64, 64).map((c) => ({ ...c, panel: p.name })));
  const extent = { scale: { domain: [0, frames], nice: false } };
  return {
    $schema: SCHEMA,
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: 'right' } },
    padding: PADDING,
    title: { text: title, subtitle },
    data: { values },
    facet: { field: 'panel', type: 'ordinal', title: null, sort: panels.map((p) => p.name), header: { labelFontSize: 12 } },
    columns: Math.min(4, panels.length),
    spec: {
      width: 150,
      height: 150,
      mark: 'rect',
      encoding: {
        x: { field: 'x0', type: 'quantitative', title: 'key frame', ...extent },
        x2: { field: 'x1' },
        y: { field: 'y0', type: 'quantitative', title: 'query frame', ...extent, sort: 'descending' },
        y2: { field: 'y1' },
        color: { field: 'v', type: 'quantitative', title: 'attention', scale: { scheme: 'viridis' } },
        ...seamless('viridis', 'attention'),
      },
    },
  } as PlotSpec;
}

/** The conv feature encoder's output [T, C] as an image: time across, channels up, averaged to at most 240 × 128 cells. */
export function convFeaturesImage(conv: ArrayLike<number>, frames: number, channels: number, frameSeconds: number): PlotSpec {
  // Transposed to [C, T] so pooledCells' columns are frames.
  const ct = new Float64Array(frames * channels);
  for (let t = 0; t < frames; t++) for (let c = 0; c < channels; c++) ct[c * frames + t] = conv[t * channels + c];
  const values = pooledCells(ct, channels, frames, 128, 240, frameSeconds);
  return {
    $schema: SCHEMA,
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: 'right' } },
    padding: PADDING,
    title: {
      text: 'Conv feature encoder output',
      subtitle: `${channels} channels × ${frames} frames (${ms(frameSeconds)} hop), before the feature projection`,
    },
    width: 640,
    height: 260,
    data: { values },
    mark: 'rect',
    encoding: {
      x: { field: 'x0', type: 'quantitative', title: 'time (s)', scale: { domain: [0, frames * frameSeconds], nice: false } },
      x2: { field: 'x1' },
      y: { field: 'y0', type: 'quantitative', title: 'channel', scale: { domain: [0, channels], nice: false } },
      y2: { field: 'y1' },
      color: { field: 'v', type: 'quantitative', title: 'activation', scale: { scheme: 'magma' } },
      ...seamless('magma', 'activation'),
    },
  } as PlotSpec;
}

/** The waveform (min/max per pixel column) with the frame grid: a line at each frame start, every k-th when dense. */
export function waveformChart(samples: ArrayLike<number>, sampleRate: number, hop: number, frames: number): PlotSpec {
  const columns = 800;
  const per = Math.max(1, Math.ceil(samples.length / columns));
  const envelope: { t: number; lo: number; hi: number }[] = [];
  for (let s0 = 0; s0 < samples.length; s0 += per) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let s = s0; s < Math.min(samples.length, s0 + per); s++) {
      lo = Math.min(lo, samples[s]);
      hi = Math.max(hi, samples[s]);
    }
    envelope.push({ t: s0 / sampleRate, lo, hi });
  }
  const every = Math.max(1, Math.ceil(frames / 100));
  const grid = Array.from({ length: Math.ceil(frames / every) }, (_, i) => ({ t: (i * every * hop) / sampleRate }));
  const x = { field: 't', type: 'quantitative' as const, title: 'time (s)', scale: { domain: [0, samples.length / sampleRate], nice: false } };
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Waveform and frame grid',
      subtitle: `${frames} frames, ${ms(hop / sampleRate)} hop; a line at the start of ${every === 1 ? 'every frame' : `every ${every}th frame`} (model input, normalised)`,
    },
    width: 640,
    height: 200,
    layer: [
      { data: { values: grid }, mark: { type: 'rule', color: '#e45756', opacity: 0.35 }, encoding: { x } },
      {
        data: { values: envelope },
        mark: { type: 'area', color: '#4c78a8' },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'amplitude' }, y2: { field: 'hi' } },
      },
    ],
  } as PlotSpec;
}

export interface InsideInput {
  config: ModelConfig;
  sampleRate: number;
  /** The first row of the model input [N]; drawn up to the end of its last valid frame. */
  samples: Float32Array;
  /** Forward output with attentionEntropy and attentionMaps. */
  out: ForwardOutput;
  /** layerStats(out) and layerSimilarity(out), computed once by the caller. */
  stats: LayerStats[];
  similarity: number[][];
  /** The layer (1..L) whose every head is drawn. */
  layer: number;
}

/** First row's [T0, T0] attention maps of one layer (valid frames only), one per head. */
function headMaps(maps: tf.Tensor4D, frames: number): Float32Array[] {
  const [, heads, T] = maps.shape;
  const p = maps.dataSync(); // row 0 comes first
  return Array.from({ length: heads }, (_, h) => {
    const m = new Float32Array(frames * frames);
    for (let q = 0; q < frames; q++) m.set(p.subarray((h * T + q) * T, (h * T + q) * T + frames), q * frames);
    return m;
  });
}

/** Writes every plot of the first row of `out` into `dir` (PNG + SVG); returns the file paths. */
export async function writeInsidePlots(dir: string, input: InsideInput): Promise<string[]> {
  const { out, config, sampleRate, stats } = input;
  const [, T, C] = out.convFeatures.shape;
  const frames = out.frameMask ? Array.from(out.frameMask.dataSync().subarray(0, T)).reduce((n, v) => n + v, 0) : T; // row 0's valid frames
  const hop = config.convStride.reduce((a, b) => a * b, 1);
  const samples = input.samples.subarray(0, (frames - 1) * hop + receptiveField(config));
  const heads = (out.attentionMaps ?? []).map((m) => headMaps(m, frames)); // [layer][head] → [T0, T0]
  const averaged = heads.map((maps, l) => {
    const avg = new Float32Array(frames * frames);
    for (const h of maps) for (let i = 0; i < avg.length; i++) avg[i] += h[i] / maps.length;
    return { name: `layer ${l + 1}`, map: avg };
  });
  const specs: [string, PlotSpec][] = [
    ['layer_similarity', ckaHeatmap(input.similarity)],
    ['activations', activationChart(stats)],
    ['attention_entropy', attentionEntropyChart(stats, frames)],
    ['attention_layers', attentionGrid(averaged, frames, 'Attention per layer', 'averaged over heads; first row, valid frames')],
    [
      `attention_layer${input.layer}_heads`,
      attentionGrid(
        heads[input.layer - 1].map((map, h) => ({ name: `head ${h}`, map })),
        frames,
        `Attention of layer ${input.layer}, every head`,
        'first row, valid frames',
      ),
    ],
    ['conv_features', convFeaturesImage(out.convFeatures.dataSync().subarray(0, frames * C), frames, C, hop / sampleRate)],
    ['waveform', waveformChart(samples, sampleRate, hop, frames)],
  ];
  const files: string[] = [];
  for (const [name, spec] of specs) {
    const f = await writePlot(dir, name, spec);
    files.push(f.png, f.svg);
  }
  return files;
}
