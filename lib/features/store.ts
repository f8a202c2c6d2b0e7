/**
 * The feature store shared by extraction and the probe: a directory with
 *   index.csv          id,label[,path,duration,speaker,…]   label `bona-fide` or `spoof`
 *   layer_00.npy …     float32 [N, D] per layer, row i = index.csv row i: the mean over the file's frames
 *   layer_00_std.npy … optional (pooling `mean,std`): float32 [N, D], the standard deviation over the same frames
 *   meta.json          optional: model, layers, pooling (`mean` or `mean,std`), …
 *   errors.csv         optional: id,path,error of the files extraction could not read
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic';
import { readCsv, writeCsv } from '../data/csv';
import { parseLabels } from '../data/labels';
import { DataError } from '../errors';
import type { Lock } from '../lock';
import { readNpy, writeNpy } from './npy';

export interface LayerArray {
  /** [n, d] row-major */
  data: Float32Array;
  n: number;
  d: number;
}

export interface StoreMeta {
  model?: string;
  /** The model's fingerprint (lib/weights modelFingerprint), when known: heads trained here carry it. */
  model_fingerprint?: string | null;
  layers?: number[];
  pooling?: string;
  [key: string]: unknown;
}

export interface FeatureStore {
  dir: string;
  header: string[];
  index: Record<string, string>[];
  /** [N], 1 = spoof */
  labels: Uint8Array;
  /** The layers that were read, by layer number. */
  layers: Map<number, LayerArray>;
  /** Their standard deviations, when asked for (`readStore(dir, { std: true })`); empty otherwise. */
  std: Map<number, LayerArray>;
  meta: StoreMeta | null;
}

export const ERRORS_FILE = 'errors.csv';

export const indexFile = (dir: string): string => path.join(dir, 'index.csv');
export const layerFile = (dir: string, layer: number): string => path.join(dir, `layer_${String(layer).padStart(2, '0')}.npy`);
export const stdFile = (dir: string, layer: number): string => path.join(dir, `layer_${String(layer).padStart(2, '0')}_std.npy`);

/** Layer numbers with a layer_NN.npy file, ascending. */
export function listLayers(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    throw new DataError('feature store directory not found', dir);
  }
  return names
    .map((f) => /^layer_(\d+)\.npy$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Throws a DataError naming the file and the first NaN/Inf in a [n, d] array. */
export function assertFinite(data: Float32Array | Float64Array, d: number, file: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new DataError(`non-finite value ${data[i]} at row ${Math.floor(i / d)}, column ${i % d}`, file);
    }
  }
}

function readLayer(file: string, n: number, d?: number): LayerArray {
  const { data, shape } = readNpy(file);
  if (shape.length !== 2) throw new DataError(`expected a 2-D [N, D] array, got shape (${shape.join(', ')})`, file);
  if (shape[0] !== n) throw new DataError(`${shape[0]} rows, index.csv has ${n}`, file);
  if (d !== undefined && shape[1] !== d) throw new DataError(`${shape[1]} columns, the layer's means have ${d}`, file);
  assertFinite(data, shape[1], file);
  return { data, n, d: shape[1] };
}

/** meta.json of a store (null when absent); a corrupt one is a DataError. */
export function readMeta(dir: string): StoreMeta | null {
  const file = path.join(dir, 'meta.json');
  if (!fs.existsSync(file)) return null;
  try {
    const meta = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new Error('not a JSON object');
    return meta;
  } catch (e) {
    throw new DataError(`invalid meta.json (${(e as Error).message})`, file);
  }
}

/**
 * Reads index.csv, meta.json and the layers asked for (all by default), validating rows, labels and values; with
 * `std`, also their standard deviations (a store extracted without `--pool mean,std` is refused naming the file).
 */
export function readStore(dir: string, opts: { layers?: number[]; std?: boolean } = {}): FeatureStore {
  const available = listLayers(dir);
  const idx = indexFile(dir);
  if (!fs.existsSync(idx)) throw new DataError('not a feature store: index.csv is missing', dir);
  const { header, rows } = readCsv(idx, ['id', 'label']);
  if (rows.length === 0) throw new DataError('empty feature store: index.csv has no rows', idx);
  const labels = parseLabels(
    rows.map((r) => r.label),
    idx,
  );
  if (available.length === 0) throw new DataError('no layer_NN.npy files in the feature store', dir);
  const wanted = opts.layers ?? available;
  const layers = new Map<number, LayerArray>();
  const std = new Map<number, LayerArray>();
  for (const k of wanted) {
    if (!available.includes(k)) {
      throw new DataError(`layer ${k} is not in the feature store (it has ${available[0]}…${available[available.length - 1]})`, dir);
    }
    const mean = readLayer(layerFile(dir, k), rows.length);
    layers.set(k, mean);
    if (!opts.std) continue;
    const file = stdFile(dir, k);
    if (!fs.existsSync(file)) throw new DataError('no standard deviations in the feature store (extract with --pool mean,std)', file);
    std.set(k, readLayer(file, rows.length, mean.d));
  }
  return { dir, header, index: rows, labels, layers, std, meta: readMeta(dir) };
}

/**
 * Writes a store (each file atomically). Index rows need `id` and `label`; other columns keep first-seen order;
 * `std`, when given, holds the standard deviations of the same layers.
 */
export function writeStore(
  dir: string,
  store: { index: Record<string, string | number>[]; layers: Map<number, LayerArray>; std?: Map<number, LayerArray>; meta?: StoreMeta | null },
): void {
  const n = store.index.length;
  const header = ['id', 'label'];
  for (const row of store.index) for (const k of Object.keys(row)) if (!header.includes(k)) header.push(k);
  parseLabels(
    store.index.map((r) => String(r.label)),
    indexFile(dir),
  );
  const std = store.std ?? new Map<number, LayerArray>();
  for (const [k, a] of store.layers) {
    if (a.n !== n || a.data.length !== a.n * a.d) {
      throw new DataError(`layer ${k} is [${a.n}, ${a.d}] with ${a.data.length} values, index has ${n} rows`, layerFile(dir, k));
    }
    const s = std.get(k);
    if (std.size && (!s || s.n !== a.n || s.d !== a.d || s.data.length !== a.data.length)) {
      throw new DataError(`the standard deviations of layer ${k} are not [${a.n}, ${a.d}] like its means`, stdFile(dir, k));
    }
  }
  if (std.size !== 0 && std.size !== store.layers.size) throw new DataError('standard deviations for some layers only', dir);
  fs.mkdirSync(dir, { recursive: true });
  for (const [k, a] of store.layers) writeNpy(layerFile(dir, k), a.data, [a.n, a.d]);
  for (const [k, a] of std) writeNpy(stdFile(dir, k), a.data, [a.n, a.d]);
  writeCsv(indexFile(dir), header, store.index);
  if (store.meta) writeFileAtomic(path.join(dir, 'meta.json'), JSON.stringify(store.meta, null, 1) + '\n');
}

/**
 * Writes a whole store into `<out>.tmp-<pid>` and renames it to `out`, so `out` is complete or absent; the caller
 * holds the lock on `out`. On failure (a full disk, say) the temporary folder goes.
 */
export function writeStoreAtomic(out: string, store: Parameters<typeof writeStore>[1], errors: Record<string, string>[], lock: Lock): void {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    writeStore(tmp, store);
    if (errors.length) writeCsv(path.join(tmp, ERRORS_FILE), ['id', 'path', 'error'], errors);
    lock.assertHeld();
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
