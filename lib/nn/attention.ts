/**
 * Multi-head self-attention from reshapes and batched matMuls: softmax(q·kᵀ/√d + bias)·v, with any number of
 * additive biases broadcast to [B, heads, T, T] (a key padding mask, WavLM's gated position bias).
 */
import * as tf from '@tensorflow/tfjs-core';
import { linear } from './linear';

export interface AttentionParams {
  qWeight: tf.Tensor;
  qBias: tf.Tensor;
  kWeight: tf.Tensor;
  kBias: tf.Tensor;
  vWeight: tf.Tensor;
  vBias: tf.Tensor;
  outWeight: tf.Tensor;
  outBias: tf.Tensor;
}

export type AttentionResult = {
  output: tf.Tensor3D; // [B, T, H]
  /** −Σ_j p·log p of each query's attention distribution, [B, heads, T]; only when asked for. */
  entropy?: tf.Tensor3D;
};

/** Large enough that exp() of a masked score is exactly 0, small enough that adding biases cannot overflow. */
export const MASKED = -1e9;

/** [B, T] 1/0 frame mask → additive key bias [B, 1, 1, T] (0 for real frames, MASKED for padding). */
export function keyPaddingBias(frameMask: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, T] = frameMask.shape;
    return tf.reshape(tf.mul(tf.sub(frameMask, 1), -MASKED), [B, 1, 1, T]); // (mask − 1)·1e9: +0 on real frames
  });
}

/** [B, T, H] → [B, heads, T, H/heads]. */
export function splitHeads(x: tf.Tensor3D, heads: number): tf.Tensor4D {
  const [B, T, H] = x.shape;
  return tf.tidy(() => tf.transpose(tf.reshape(x, [B, T, heads, H / heads]), [0, 2, 1, 3]));
}

export function selfAttention(
  x: tf.Tensor3D,
  p: AttentionParams,
  heads: number,
  opts: { biases?: tf.Tensor[]; entropy?: boolean } = {},
): AttentionResult {
  return tf.tidy((): AttentionResult => {
    const [B, T, H] = x.shape;
    const d = H / heads;
    const q = splitHeads(tf.mul(linear(x, p.qWeight, p.qBias), 1 / Math.sqrt(d)), heads); // [B, h, T, d]
    const kT = tf.transpose(tf.reshape(linear(x, p.kWeight, p.kBias), [B, T, heads, d]), [0, 2, 3, 1]); // [B, h, d, T]
    const v = splitHeads(linear(x, p.vWeight, p.vBias), heads); // [B, h, T, d]
    let scores: tf.Tensor4D = tf.matMul(q, kT); // [B, h, T, T]
    for (const b of opts.biases ?? []) scores = tf.add(scores, b);
    const probs = tf.softmax(scores); // [B, h, T, T], over keys
    const context = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [B, T, H]); // [B, T, H]
    const output = linear(context, p.outWeight, p.outBias) as tf.Tensor3D; // [B, T, H]
    if (!opts.entropy) return { output };
    // 0·log 0 = 0: masked keys get probability exactly 0.
    const entropy = tf.neg(tf.sum(tf.mul(probs, tf.log(tf.maximum(probs, 1e-30))), -1)) as tf.Tensor3D; // [B, h, T]
    return { output, entropy };
  });
}
