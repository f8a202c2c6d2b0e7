/**
 * Multi-head self-attention: softmax(q·kᵀ/√d + biases)·v between the q/k/v and output projections, with an
 * optional key padding bias and WavLM's gated relative position bias. On wavprobe's wasm kernels the core
 * (scores, softmax, context; every head, heads over threads) is one kernel; elsewhere, and when attention entropy
 * or the probabilities are asked for, it is tfjs ops on [B, heads, T, T] (selfAttention).
 */
import * as tf from '@tensorflow/tfjs-core';
import { kernels, runKernel } from '../kernels';
import { linear } from './linear';

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
  /** The attention probabilities, [B, heads, T, T] (query × key); only when asked for. */
  probs?: tf.Tensor4D;
};

/** Large enough that exp() of a masked score is exactly 0, small enough that adding biases cannot overflow. */
export const MASKED = -1e9;

/** [B, T] 1/0 frame mask → additive key bias [B, T] (0 for real frames, MASKED for padding). */
export function keyPaddingBias(frameMask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.sub(frameMask, 1), -MASKED)); // (mask − 1)·1e9: +0 on real frames
}

/** WavLM's position bias: bias[h, i, j] scaled per batch row, head and query by gate[b, h, i]. */
export interface PositionBias {
  bias: tf.Tensor3D; // [heads, T, T]
  gate: tf.Tensor3D; // [B, heads, T]
}

export function multiHeadAttention(
  x: tf.Tensor3D,
  p: AttentionParams,
  heads: number,
  opts: { keyBias?: tf.Tensor2D; position?: PositionBias; entropy?: boolean; probs?: boolean } = {},
): AttentionResult {
  return tf.tidy((): AttentionResult => {
    if (kernels() && !opts.entropy && !opts.probs) {
      const q = linear(x, p.qWeight, p.qBias); // [B, T, H]
      const k = linear(x, p.kWeight, p.kBias); // [B, T, H]
      const v = linear(x, p.vWeight, p.vBias); // [B, T, H]
      return { output: linear(attentionCore(q, k, v, heads, opts), p.outWeight, p.outBias) };
    }
    return selfAttention(x, p, heads, { biases: scoreBiases(x.shape[0], x.shape[1], opts), entropy: opts.entropy, probs: opts.probs });
  });
}

/** The key padding and position biases as terms added to the scores [B, heads, T, T]. */
function scoreBiases(B: number, T: number, opts: { keyBias?: tf.Tensor2D; position?: PositionBias }): tf.Tensor[] {
  const biases: tf.Tensor[] = [];
  if (opts.keyBias) biases.push(tf.reshape(opts.keyBias, [B, 1, 1, T]));
  if (opts.position) biases.push(tf.mul(tf.expandDims(opts.position.gate, 3), tf.expandDims(opts.position.bias, 0))); // [B, h, T, T]
  return biases;
}

/**
 * softmax(q_h·k_hᵀ/√d + biases)·v_h for every head h, between the projections: q, k, v [B, T, H] → [B, T, H].
 * One kernel on wavprobe's wasm kernels (every head, heads over threads); elsewhere tfjs ops.
 */
export function attentionCore(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  heads: number,
  opts: { keyBias?: tf.Tensor2D; position?: PositionBias } = {},
): tf.Tensor3D {
  const [B, T, H] = q.shape;
  if (!kernels()) return tf.tidy(() => contextOf(q, k, v, heads, scoreBiases(B, T, opts)).context);
  const inputs: Record<string, tf.Tensor> = { q, k, v };
  if (opts.keyBias) inputs.key = opts.keyBias; // [B, T]
  if (opts.position) Object.assign(inputs, { pos: opts.position.bias, gate: opts.position.gate });
  return runKernel<tf.Tensor3D>('WavprobeAttention', inputs, { heads, scale: 1 / Math.sqrt(H / heads) }); // [B, T, H]
}

/** tfjs ops: the probabilities [B, heads, T, T] and the context [B, T, H] of q, k, v [B, T, H]. */
function contextOf(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, biases: tf.Tensor[]): { probs: tf.Tensor4D; context: tf.Tensor3D } {
  const [B, T, H] = q.shape;
  const d = H / heads;
  const qh = splitHeads(tf.mul(q, 1 / Math.sqrt(d)), heads); // [B, h, T, d]
  const kT = tf.transpose(tf.reshape(k, [B, T, heads, d]), [0, 2, 3, 1]); // [B, h, d, T]
  let scores: tf.Tensor4D = tf.matMul(qh, kT); // [B, h, T, T]
  for (const b of biases) scores = tf.add(scores, b);
  const probs = tf.softmax(scores); // [B, h, T, T], over keys
  const context = tf.reshape(tf.transpose(tf.matMul(probs, splitHeads(v, heads)), [0, 2, 1, 3]), [B, T, H]) as tf.Tensor3D; // [B, T, H]
  return { probs, context };
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
  opts: { biases?: tf.Tensor[]; entropy?: boolean; probs?: boolean } = {},
): AttentionResult {
  return tf.tidy((): AttentionResult => {
    const q = linear(x, p.qWeight, p.qBias); // [B, T, H]
    const k = linear(x, p.kWeight, p.kBias); // [B, T, H]
    const v = linear(x, p.vWeight, p.vBias); // [B, T, H]
    const { probs, context } = contextOf(q, k, v, heads, opts.biases ?? []);
    const output = linear(context, p.outWeight, p.outBias) as tf.Tensor3D; // [B, T, H]
    const result: AttentionResult = { output };
    // 0·log 0 = 0: masked keys get probability exactly 0.
    if (opts.entropy) result.entropy = tf.neg(tf.sum(tf.mul(probs, tf.log(tf.maximum(probs, 1e-30))), -1)) as tf.Tensor3D; // [B, h, T]
    if (opts.probs) result.probs = probs;
    return result;
  });
}
