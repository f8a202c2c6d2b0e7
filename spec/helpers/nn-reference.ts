/** spec/fixtures/nn/reference.json: float64 references for lib/nn, written by spec/fixtures/nn/generate.py. */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { FIXTURES } from './fixtures';

export interface RefArray {
  shape: number[];
  data: number[];
}

export const REF: Record<string, any> = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'nn', 'reference.json'), 'utf8'));

export const tensorOf = (a: RefArray) => tf.tensor(a.data, a.shape, 'float32');

/** max |a − b| between a tensor and a reference array (Infinity when the shapes differ). */
export function maxErr(t: tf.Tensor, ref: RefArray): number {
  if (JSON.stringify(t.shape) !== JSON.stringify(ref.shape)) return Infinity;
  const d = t.dataSync();
  return ref.data.reduce((m, v, i) => Math.max(m, Math.abs(d[i] - v)), 0);
}
