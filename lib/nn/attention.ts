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

/**
 * Attention weights laid out per head once at load, for headwiseAttention: every product at run time is then a
 * plain 2-D matMul (XNNPACK on wasm), with no per-head Slice and no batched matMul (a plain loop on wasm).
 */
export interface HeadParams {
  q: tf.Tensor2D[]; // heads × [H, d], pre-scaled by 1/√d
  qBias: tf.Tensor1D[]; // heads × [d], pre-scaled by 1/√d
  kT: tf.Tensor2D[]; // heads × [d, H]: kᵀ = Wkᵀ·xᵀ needs no transposed matMul
  kBias: tf.Tensor2D[]; // heads × [d, 1]
  v: tf.Tensor2D[]; // heads × [H, d]
  vBias: tf.Tensor1D[]; // heads × [d]
  outWeight: tf.Tensor2D; // [H, H]
  outBias: tf.Tensor1D; // [H]
}

/** New tensors (the caller owns them and p); head h owns columns [h·d, (h+1)·d) of q, k and v. */
export function splitAttentionHeads(p: AttentionParams, heads: number): HeadParams {
  return tf.tidy(() => {
    const H = p.qWeight.shape[0];
    const scale = 1 / Math.sqrt(H / heads);
    const cols = (w: tf.Tensor, s = 1) => tf.split(tf.mul(w, s) as tf.Tensor2D, heads, 1); // heads × [H, d]
    const parts = (b: tf.Tensor, s = 1) => tf.split(tf.mul(b, s) as tf.Tensor1D, heads); // heads × [d]
    return {
      q: cols(p.qWeight, scale),
      qBias: parts(p.qBias, scale),
      kT: cols(p.kWeight).map((w) => tf.transpose(w)),
      kBias: parts(p.kBias).map((b) => tf.reshape(b, [-1, 1]) as tf.Tensor2D),
      v: cols(p.vWeight),
      vBias: parts(p.vBias),
      outWeight: tf.clone(p.outWeight) as tf.Tensor2D,
      outBias: tf.clone(p.outBias) as tf.Tensor1D,
    } as unknown as tf.TensorContainer;
  }) as unknown as HeadParams;
}

/** Additive score bias of batch row b, head h, broadcastable to [T, T]; undefined for none. */
export type HeadBias = (b: number, h: number) => tf.Tensor | undefined;

/**
 * selfAttention's result from 2-D matMuls only: per batch row and head, q = x·Wq_h, kᵀ = Wk_hᵀ·xᵀ, v = x·Wv_h,
 * softmax(q·kᵀ + bias)·v; the heads' contexts concatenated and projected once. Checked against selfAttention in
 * spec/nn/attention.spec.ts.
 */
export function headwiseAttention(x: tf.Tensor3D, p: HeadParams, opts: { bias?: HeadBias; entropy?: boolean } = {}): AttentionResult {
  return tf.tidy((): AttentionResult => {
    const [B, T, H] = x.shape;
    const contexts: tf.Tensor2D[] = [];
    const entropies: tf.Tensor2D[] = [];
    for (let b = 0; b < B; b++) {
      const xb = tf.reshape(B === 1 ? x : tf.slice(x, [b, 0, 0], [1, T, H]), [T, H]) as tf.Tensor2D; // [T, H]
      const xbT = tf.transpose(xb); // [H, T]
      const perHead = p.q.map((_, h) =>
        tf.tidy(() => {
          const q = tf.fused.matMul({ a: xb, b: p.q[h], bias: p.qBias[h] }); // [T, d], scaled
          const kT = tf.add(tf.matMul(p.kT[h], xbT), p.kBias[h]); // [d, T]
          const v = tf.fused.matMul({ a: xb, b: p.v[h], bias: p.vBias[h] }); // [T, d]
          let scores: tf.Tensor2D = tf.matMul(q, kT); // [T, T]
          const bias = opts.bias?.(b, h);
          if (bias) scores = tf.add(scores, bias);
          const probs = tf.softmax(scores); // [T, T], over keys
          const context = tf.matMul(probs, v); // [T, d]
          if (!opts.entropy) return [context];
          return [context, tf.neg(tf.sum(tf.mul(probs, tf.log(tf.maximum(probs, 1e-30))), -1))]; // [T, d], [T]
        }),
      );
      contexts.push(tf.concat(perHead.map((r) => r[0]), 1) as tf.Tensor2D); // [T, H]
      if (opts.entropy) entropies.push(tf.stack(perHead.map((r) => r[1])) as tf.Tensor2D); // [heads, T]
    }
    const context = B === 1 ? contexts[0] : tf.concat(contexts, 0); // [B·T, H]
    const output = tf.reshape(tf.fused.matMul({ a: context, b: p.outWeight, bias: p.outBias }), [B, T, H]) as tf.Tensor3D;
    if (!opts.entropy) return { output };
    return { output, entropy: tf.stack(entropies) as tf.Tensor3D }; // [B, heads, T]
  });
}
