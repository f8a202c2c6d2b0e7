/** Helpers for the probe, metrics and report specs: golden fixtures and synthetic feature stores. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readNpy } from '../../lib/features/npy';
import { LayerArray, writeStore } from '../../lib/features/store';
import { seededRandom } from '../../lib/probe/split';
import { FIXTURES } from './fixtures';

export const PROBE = path.join(FIXTURES, 'probe');

export const probeJson = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(PROBE, name), 'utf8'));
export const probeNpy = (name: string) => readNpy(path.join(PROBE, name));

export const tmpDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-probe-'));

/** Standard normal draws (Box–Muller) from a seeded generator. */
export function gaussian(seed: number): () => number {
  const rand = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * A store of n rows (first `nSpoof` spoof) with layers 0 and 1 of dimension d: spoof rows shifted by `shift` in
 * every dimension, so the classes overlap but are learnable.
 */
export function gaussianStore(
  dir: string,
  opts: { n?: number; nSpoof?: number; d?: number; shift?: number; seed?: number } = {},
): {
  X: LayerArray;
  y: Uint8Array;
} {
  const { n = 300, nSpoof = 180, d = 6, shift = 0.6, seed = 1 } = opts;
  const g = gaussian(seed);
  const y = Uint8Array.from({ length: n }, (_, i) => Number(i < nSpoof));
  const layer = (): LayerArray => {
    const data = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = g() + (y[i] ? shift : 0) + j;
    return { data, n, d };
  };
  const X = layer();
  writeStore(dir, {
    index: Array.from(y, (v, i) => ({ id: `utt${i}`, label: v ? 'spoof' : 'bona-fide', speaker: `s${i % 7}` })),
    layers: new Map([
      [0, layer()],
      [1, X],
    ]),
    meta: { model: 'test/model', layers: [0, 1], pooling: 'mean' },
  });
  return { X, y };
}
