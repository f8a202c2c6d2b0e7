/** Normalisations tfjs lacks as ops: layer norm over channels and per-channel group norm over time. */
import * as tf from '@tensorflow/tfjs-core';
import { consume } from './consume';

type Mean = <T extends tf.Tensor>(x: T) => T;

/** (x − mean)/sqrt(var + eps)·gamma + beta, with population statistics from `mean` (keepDims). */
function normalize<T extends tf.Tensor>(x: T, mean: Mean, gamma: tf.Tensor, beta: tf.Tensor, eps: number): T {
  return tf.tidy(() => {
    const centered = tf.sub(x, mean(x));
    const invStd = tf.rsqrt(tf.add(consume(tf.square(centered), mean), eps));
    const normed = consume(centered, (c) => tf.mul(c, invStd));
    return consume(consume(normed, (n) => tf.mul(n, gamma)), (s) => tf.add(s, beta)) as T;
  });
}

const meanOverChannels: Mean = (x) => tf.mean(x, -1, true);

/**
 * Mean over axis 1 of [B, T, C], keepDims, summed in chunks of ~√T frames. The wasm backend accumulates a
 * reduction in one float32 running sum, whose error grows like T·ε: ~1e-4 on a group norm over 4000 frames.
 */
const meanOverTime: Mean = <T extends tf.Tensor>(x: T): T =>
  tf.tidy(() => {
    const [B, T, C] = x.shape;
    const chunk = Math.ceil(Math.sqrt(T));
    const n = Math.ceil(T / chunk);
    const padded = n * chunk === T ? x : tf.pad(x, [[0, 0], [0, n * chunk - T], [0, 0]]); // zeros add nothing
    const partial = tf.sum(tf.reshape(padded, [B, n, chunk, C]), 2); // [B, n, C]
    return tf.div(tf.sum(partial, 1, true), T) as T; // [B, 1, C]
  });

/** LayerNorm over the last axis: x [..., C], gamma/beta [C]. */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): T {
  return normalize(x, meanOverChannels, gamma, beta, eps);
}

/**
 * GroupNorm with one group per channel (torch GroupNorm(C, C)) on time-major x [B, T, C]: each row's channel is
 * normalised over the whole time axis, padding included (what HF's feature encoder does).
 */
export function groupNormPerChannel(x: tf.Tensor3D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor3D {
  return normalize(x, meanOverTime, gamma, beta, eps);
}
