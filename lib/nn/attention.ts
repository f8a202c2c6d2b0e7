/**
 * Multi-head self-attention from reshapes and batched matMuls: softmax(q·kᵀ/√d + bias)·v, with any number of
 * additive biases broadcast to [B, heads, T, T] (a key padding mask, WavLM's gated position bias).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HostTensor } from '../weights/tensor';
import { linear, matMul } from './linear';

/** Projection weights in the stored [in, out] layout, on the backend (tf.Tensor) or in the JS heap (HostTensor). */
export interface AttentionParams<T = tf.Tensor> {
  qWeight: T;
  qBias: T;
  kWeight: T;
  kBias: T;
  vWeight: T;
  vBias: T;
  outWeight: T;
  outBias: T;
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
export interface HeadLayout<T> {
  q: T[]; // heads × [H, d], pre-scaled by 1/√d
  qBias: T[]; // heads × [d], pre-scaled by 1/√d
  kT: T[]; // heads × [d, H]: kᵀ = Wkᵀ·xᵀ needs no transposed matMul
  kBias: T[]; // heads × [d, 1]
  v: T[]; // heads × [H, d]
  vBias: T[]; // heads × [d]
  outWeight: T; // [H, H]
  outBias: T; // [H]
}
export type HeadParams = HeadLayout<tf.Tensor>;

/**
 * The per-head layout, computed in the JS heap (so a model that streams its weights re-uploads it as is); head h
 * owns columns [h·d, (h+1)·d) of q, k and v. The output projection is shared, not copied.
 */
export function splitAttentionHeads(p: AttentionParams<HostTensor>, heads: number): HeadLayout<HostTensor> {
  const H = p.qWeight.shape[0];
  const d = H / heads;
  const scale = 1 / Math.sqrt(d);
  const columns = (w: HostTensor, h: number, s = 1): HostTensor => {
    const out = new Float32Array(H * d); // [H, d]
    for (let i = 0; i < H; i++) for (let j = 0; j < d; j++) out[i * d + j] = w.data[i * H + h * d + j] * s;
    return { shape: [H, d], data: out };
  };
  const transposedColumns = (w: HostTensor, h: number): HostTensor => {
    const out = new Float32Array(d * H); // [d, H]
    for (let i = 0; i < H; i++) for (let j = 0; j < d; j++) out[j * H + i] = w.data[i * H + h * d + j];
    return { shape: [d, H], data: out };
  };
  const part = (b: HostTensor, h: number, shape: number[], s = 1): HostTensor => ({ shape, data: b.data.slice(h * d, (h + 1) * d).map((v) => v * s) });
  const each = <T>(f: (h: number) => T) => Array.from({ length: heads }, (_, h) => f(h));
  return {
    q: each((h) => columns(p.qWeight, h, scale)),
    qBias: each((h) => part(p.qBias, h, [d], scale)),
    kT: each((h) => transposedColumns(p.kWeight, h)),
    kBias: each((h) => part(p.kBias, h, [d, 1])),
    v: each((h) => columns(p.vWeight, h)),
    vBias: each((h) => part(p.vBias, h, [d])),
    outWeight: p.outWeight,
    outBias: p.outBias,
  };
}

/** splitAttentionHeads for weights on the backend: read back, split, uploaded as new tensors (the caller owns them and p). */
export function splitAttentionHeadsOnBackend(p: AttentionParams, heads: number): HeadParams {
  const host = (t: tf.Tensor): HostTensor => ({ shape: t.shape, data: t.dataSync() as Float32Array });
  const up = (t: HostTensor) => tf.tensor(t.data, t.shape, 'float32');
  const h = splitAttentionHeads(
    { qWeight: host(p.qWeight), qBias: host(p.qBias), kWeight: host(p.kWeight), kBias: host(p.kBias), vWeight: host(p.vWeight), vBias: host(p.vBias), outWeight: host(p.outWeight), outBias: host(p.outBias) },
    heads,
  );
  return { q: h.q.map(up), qBias: h.qBias.map(up), kT: h.kT.map(up), kBias: h.kBias.map(up), v: h.v.map(up), vBias: h.vBias.map(up), outWeight: up(h.outWeight), outBias: up(h.outBias) };
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
          const q = matMul(xb, p.q[h], p.qBias[h]); // [T, d], scaled
          const kT = tf.add(matMul(p.kT[h], xbT), p.kBias[h]); // [d, T]
          const v = matMul(xb, p.v[h], p.vBias[h]); // [T, d]
          let scores: tf.Tensor2D = matMul(q, kT); // [T, T]
          const bias = opts.bias?.(b, h);
          if (bias) scores = tf.add(scores, bias);
          const probs = tf.softmax(scores); // [T, T], over keys
          const context = matMul(probs, v); // [T, d]
          if (!opts.entropy) return [context];
          return [context, tf.neg(tf.sum(tf.mul(probs, tf.log(tf.maximum(probs, 1e-30))), -1))]; // [T, d], [T]
        }),
      );
      contexts.push(tf.concat(perHead.map((r) => r[0]), 1) as tf.Tensor2D); // [T, H]
      if (opts.entropy) entropies.push(tf.stack(perHead.map((r) => r[1])) as tf.Tensor2D); // [heads, T]
    }
    const context = B === 1 ? contexts[0] : tf.concat(contexts, 0); // [B·T, H]
    const output = tf.reshape(matMul(context, p.outWeight, p.outBias), [B, T, H]) as tf.Tensor3D;
    if (!opts.entropy) return { output };
    return { output, entropy: tf.stack(entropies) as tf.Tensor3D }; // [B, heads, T]
  });
}
