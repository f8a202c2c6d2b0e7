import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { layerNorm, momentsOverTime, normalizeWith } from '../../lib/nn/norm';
import { REF, maxErr, tensorOf } from '../helpers/nn-reference';
import { mulberry32 } from '../../lib/random';

/** GroupNorm(C, C) on time-major x [B, T, C], as the conv encoder composes it (its GELU left out). */
const groupNormPerChannel = (x: tf.Tensor3D, gamma: tf.Tensor, beta: tf.Tensor, eps: number) =>
  tf.tidy(() => {
    const { mean, variance } = momentsOverTime(x);
    return normalizeWith(x, mean, variance, gamma, beta, eps);
  });

describe.each(['wasm', 'cpu'] as const)('normalisations on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('layerNorm normalises over the last axis with the given eps (float64 reference)', () => {
    const r = REF.layer_norm;
    const err = tf.tidy(() => maxErr(layerNorm(tensorOf(r.x), tensorOf(r.gamma), tensorOf(r.beta), r.eps), r.out));
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('groupNormPerChannel normalises each row and channel over time (float64 reference)', () => {
    const r = REF.group_norm;
    const err = tf.tidy(() => maxErr(groupNormPerChannel(tensorOf(r.x) as tf.Tensor3D, tensorOf(r.gamma), tensorOf(r.beta), r.eps), r.out));
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('keeps group-norm statistics accurate over 32000 frames (a float32 running sum would not)', () => {
    // A channel with a large offset and a small spread, as a padded row of conv features gives.
    const T = 32000;
    const rand = mulberry32(3);
    const x = new Float32Array(T * 2);
    for (let i = 0; i < x.length; i++) x[i] = (i % 2 ? -2 : 3) + 0.01 * (rand() - 0.5);
    const ref = new Float64Array(x.length);
    for (const c of [0, 1]) {
      let s = 0;
      for (let t = 0; t < T; t++) s += x[t * 2 + c];
      const mean = s / T;
      let ss = 0;
      for (let t = 0; t < T; t++) ss += (x[t * 2 + c] - mean) ** 2;
      const std = Math.sqrt(ss / T + 1e-5);
      for (let t = 0; t < T; t++) ref[t * 2 + c] = (x[t * 2 + c] - mean) / std;
    }
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => groupNormPerChannel(tf.tensor3d(x, [1, T, 2]), tf.ones([2]), tf.zeros([2]), 1e-5).dataSync() as Float32Array);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i])), 0)).toBeLessThanOrEqual(1e-3);
  });
});
