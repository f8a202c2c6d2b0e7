/**
 * Feature sets: what vector a head is trained on, built from the pooled layers of a feature store or, in detect,
 * of the audio itself — the same function either way, so a head sees the same features in both.
 *   --layers 7          layer 7                       (D values)
 *   --layers 5,7        layers 5 and 7 side by side   (2·D, in the order given)
 *   --layers mean:0-24  the average of layers 0…24    (D; also mean:1,3,5)
 *   --pool mean+std     each layer's mean over frames followed by its standard deviation (twice the values); under
 *                       mean:a-b, the average of the layers' means followed by the average of their stds
 * The std is each layer's own over its frames (extract --pool mean,std), so mean:a-b's std is the average of the
 * layers' stds, not the std of the averaged hidden states (a store does not hold those).
 */
import { DataError, UsageError } from '../errors';
import { FeatureStore, layerFile, readStore } from '../features/store';

export const FEATURE_POOLS = ['mean', 'mean+std'] as const;
export type FeaturePool = (typeof FEATURE_POOLS)[number];

export interface FeatureSet {
  /** The layers, in the order their features are laid out. */
  layers: number[];
  /** concat: the layers' features side by side; mean: their element-wise average. */
  combine: 'concat' | 'mean';
  pool: FeaturePool;
}

/** A [n, d] row-major matrix of features; float64 where it was computed, the store's float32 where it was read. */
export interface FeatureMatrix {
  data: Float32Array | Float64Array;
  n: number;
  d: number;
}

/** The feature set of a head written before feature sets: one layer's mean. */
export const singleLayer = (layer: number): FeatureSet => ({ layers: [layer], combine: 'concat', pool: 'mean' });

/** Parses `--layers` (`7`, `5,7`, `mean:0-24`, `mean:1,3,5`) and `--pool` (`mean`, `mean+std`). */
export function parseFeatureSet(layers: string, pool: string = 'mean'): FeatureSet {
  if (!(FEATURE_POOLS as readonly string[]).includes(pool)) throw new UsageError(`--pool must be mean or mean+std, got "${pool}"`);
  const s = String(layers).trim();
  const m = /^(mean:)?(?:(\d+)-(\d+)|(\d+(?:,\d+)*))$/.exec(s);
  if (!m || (m[2] !== undefined && !m[1])) {
    throw new UsageError(`--layers must be a layer (7), layers to concatenate (5,7) or layers to average (mean:0-24, mean:1,3,5), got "${s}"`);
  }
  let list: number[];
  if (m[2] !== undefined) {
    const [lo, hi] = [Number(m[2]), Number(m[3])];
    if (lo >= hi) throw new UsageError(`--layers "${s}": a range a-b needs a < b`);
    list = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  } else list = m[4].split(',').map(Number);
  if (new Set(list).size !== list.length) throw new UsageError(`--layers "${s}" names a layer twice`);
  // (the average of one layer is that layer)
  return { layers: list, combine: m[1] && list.length > 1 ? 'mean' : 'concat', pool: pool as FeaturePool };
}

/** The set as `--layers` and `--pool` would give it: `7`, `5,7`, `mean:0-24`, with ` mean+std` when so pooled. */
export function featureSetName(set: FeatureSet): string {
  const L = set.layers;
  const range = L.length > 2 && L.every((k, i) => k === L[0] + i);
  const layers = set.combine === 'mean' ? `mean:${range ? `${L[0]}-${L[L.length - 1]}` : L.join(',')}` : L.join(',');
  return set.pool === 'mean' ? layers : `${layers} ${set.pool}`;
}

/** Whether the set is one layer's mean, the features of a head written before feature sets. */
export const isSingleLayerMean = (set: FeatureSet): boolean => set.layers.length === 1 && set.pool === 'mean';

/** The dimension of the set's features for layers of `d` values. */
export const featureDim = (set: FeatureSet, d: number): number =>
  d * (set.combine === 'concat' ? set.layers.length : 1) * (set.pool === 'mean+std' ? 2 : 1);

/** The deepest layer the set needs: how far a forward has to run. */
export const deepestLayer = (set: FeatureSet): number => Math.max(...set.layers);

/** Why `v` is not a feature set, or null when it is one (head files are untrusted input). */
export function featureSetError(v: unknown): string | null {
  const f = v as FeatureSet;
  if (f === null || typeof f !== 'object') return 'not an object';
  if (!Array.isArray(f.layers) || f.layers.length === 0 || !f.layers.every((k) => Number.isInteger(k) && k >= 0 && k < 1e4))
    return '"layers" must be a non-empty list of layer numbers';
  if (new Set(f.layers).size !== f.layers.length) return '"layers" names a layer twice';
  if (f.combine !== 'concat' && f.combine !== 'mean') return '"combine" must be "concat" or "mean"';
  if (!(FEATURE_POOLS as readonly string[]).includes(f.pool)) return '"pool" must be "mean" or "mean+std"';
  return null;
}

/**
 * The set's features from pooled layers: `means` (and for mean+std `stds`) hold each layer's [n, d] rows. One
 * layer's mean is returned as it is (no copy); anything else is built in float64. `where` names the source in errors.
 */
export function buildFeatures(
  set: FeatureSet,
  means: Map<number, FeatureMatrix>,
  stds: Map<number, FeatureMatrix> | null,
  where: string,
): FeatureMatrix {
  const pick = (m: Map<number, FeatureMatrix> | null, k: number, what: string): FeatureMatrix => {
    const a = m?.get(k);
    if (!a) throw new DataError(`the features need the ${what} of layer ${k}, which are not there`, where);
    return a;
  };
  if (isSingleLayerMean(set)) return pick(means, set.layers[0], 'means');
  const parts = set.layers.map((k) => [pick(means, k, 'means'), ...(set.pool === 'mean+std' ? [pick(stds, k, 'standard deviations')] : [])]);
  const { n, d } = parts[0][0];
  if (parts.flat().some((a) => a.n !== n || a.d !== d)) throw new DataError('the layers of the feature set differ in size', where);
  const blocks = parts[0].length; // 1 (mean) or 2 (mean, std) per layer
  const width = featureDim(set, d);
  const data = new Float64Array(n * width); // [n, width]
  for (let i = 0; i < n; i++) {
    const row = i * width;
    parts.forEach((layer, li) =>
      layer.forEach((a, b) => {
        // concat: layer li's block b at (li·blocks + b)·d; mean: block b at b·d, summed over the layers
        const off = row + (set.combine === 'concat' ? li * blocks + b : b) * d;
        for (let j = 0; j < d; j++) data[off + j] += a.data[i * d + j];
      }),
    );
    if (set.combine === 'mean') for (let j = 0; j < width; j++) data[row + j] /= set.layers.length;
  }
  return { data, n, d: width };
}

/** The file (one layer's mean) or folder a feature set is read from, for errors. */
export const featureSource = (dir: string, set: FeatureSet): string => (isSingleLayerMean(set) ? layerFile(dir, set.layers[0]) : dir);

/** A store's features for a set: the layers it needs (and their stds for mean+std) read and combined. */
export function readFeatures(dir: string, set: FeatureSet): { store: FeatureStore; X: FeatureMatrix } {
  const store = readStore(dir, { layers: [...set.layers].sort((a, b) => a - b), std: set.pool === 'mean+std' });
  return { store, X: buildFeatures(set, store.layers, store.std, featureSource(dir, set)) };
}

/** One row of pooled vectors per layer as [1, d] matrices, for buildFeatures on a single file. */
export const oneRow = (vectors: Map<number, Float64Array>): Map<number, FeatureMatrix> =>
  new Map([...vectors].map(([k, v]) => [k, { data: v, n: 1, d: v.length }]));
