/** Normalisations tfjs lacks as ops: layer norm over channels and per-channel group norm over time. */
import * as tf from '@tensorflow/tfjs-core';
import { kernels, runKernel } from '../kernels';
import { consume } from './consume';
import { gelu } from './gelu';

/** (x − mean)·rsqrt(variance + eps)·gamma + beta, statistics broadcast against x. */
export function normalizeWith<T extends tf.Tensor>(x: T, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): T {
  return tf.tidy(() => scaleCentered(tf.sub(x, mean), variance, gamma, beta, eps) as T);
}

/**
 * GELU(normalizeWith(x, …)) for x [B, T, C] with statistics [B, 1, C]: one pass on wavprobe's wasm kernels (the
 * conv encoder's group norm and the GELU after it).
 */
export function normalizeGelu(x: tf.Tensor3D, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor3D {
  if (!kernels()) return tf.tidy(() => gelu(normalizeWith(x, mean, variance, gamma, beta, eps)));
  return tf.tidy(() => {
    const scale = tf.mul(tf.rsqrt(tf.add(variance, eps)), gamma); // [B, 1, C]
    return runKernel<tf.Tensor3D>('WavprobeNormalizeGelu', { x, mean, scale, beta });
  });
}

/** centered·rsqrt(variance + eps)·gamma + beta; frees `centered`. */
function scaleCentered(centered: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const invStd = tf.rsqrt(tf.add(variance, eps));
  const normed = consume(centered, (c) => tf.mul(c, invStd));
  return consume(
    consume(normed, (n) => tf.mul(n, gamma)),
    (s) => tf.add(s, beta),
  );
}

/** LayerNorm over the last axis: x [..., C], gamma/beta [C]. One pass per row on wavprobe's wasm kernels. */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): T {
  if (kernels()) return runKernel<T>('WavprobeLayerNorm', { x, gamma, beta }, { eps, gelu: false });
  return tf.tidy(() => {
    const centered = tf.sub(x, tf.mean(x, -1, true));
    const variance = consume(tf.square(centered), (s) => tf.mean(s, -1, true));
    return scaleCentered(centered, variance, gamma, beta, eps) as T;
  });
}

/** GELU(layerNorm(x)), fused into the same pass on wavprobe's wasm kernels (the conv encoder's "layer" mode). */
export function layerNormGelu<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): T {
  if (kernels()) return runKernel<T>('WavprobeLayerNorm', { x, gamma, beta }, { eps, gelu: true });
  return tf.tidy(() => gelu(layerNorm(x, gamma, beta, eps)));
}

/**
 * Mean over axis 1 of [B, T, C], keepDims, summed in chunks of ~√T frames. The wasm backend accumulates a
 * reduction in one float32 running sum, whose error grows like T·ε: ~1e-4 on a group norm over 4000 frames.
 */
function meanOverTime(x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T, C] = x.shape;
    const chunk = Math.ceil(Math.sqrt(T));
    const n = Math.ceil(T / chunk);
    const padded =
      n * chunk === T
        ? x
        : tf.pad(x, [
            [0, 0],
            [0, n * chunk - T],
            [0, 0],
          ]); // zeros add nothing
    const partial = tf.sum(tf.reshape(padded, [B, n, chunk, C]), 2); // [B, n, C]
    return tf.div(tf.sum(partial, 1, true), T); // [B, 1, C]
  });
}

/**
 * Per row and channel of x [B, T, C]: the mean over time and the population variance, each [B, 1, C] — a
 * GroupNorm(C, C)'s statistics (HF's conv encoder: over the whole time axis, padding included). One float64 pass
 * on wavprobe's wasm kernels.
 */
export function momentsOverTime(x: tf.Tensor3D): { mean: tf.Tensor3D; variance: tf.Tensor3D } {
  const k = kernels();
  if (k) {
    const [B, , C] = x.shape;
    const m = k.momentsOverTime(x);
    return { mean: tf.tensor3d(m.mean, [B, 1, C]), variance: tf.tensor3d(m.variance, [B, 1, C]) };
  }
  return tf.tidy(() => {
    const mean = meanOverTime(x);
    return { mean, variance: consume(tf.square(tf.sub<tf.Tensor3D>(x, mean)), meanOverTime) };
  });
}
