/**
 * WavLM (HF WavLMModel): wav2vec 2.0's graph (wav2vec2.ts) with a gated relative position bias in attention.
 * Layer 0's `rel_attn_embed` gives bias[h, i, j] = embed[bucket(j − i), h], computed once per forward and reused,
 * ungated, by every layer; each layer gates it per query frame with its own gru_rel_pos_* parameters. The bias
 * depends on j − i only, so row i of head h is a window of one table of 2T − 1 values: it is laid out on the host
 * (tfjs-wasm's gather of T²·heads values took ~170 ms at 10 s).
 */
import * as tf from '@tensorflow/tfjs-core';
import { AttentionResult, splitHeads } from '../nn/attention';
import { linear } from '../nn/linear';
import { AttentionContext, Wav2Vec2Model } from './wav2vec2';

export class WavLMModel extends Wav2Vec2Model {
  protected attentionContext(T: number, frameMask: tf.Tensor2D | undefined, entropy: boolean): AttentionContext {
    const c = this.config;
    const heads = c.numAttentionHeads;
    const embed = this.w('encoder.layers.0.attention.rel_attn_embed.weight').dataSync(); // [buckets, heads]
    const buckets = relativePositionBuckets(T, c.numBuckets, c.maxBucketDistance); // [2T − 1], by j − i + T − 1
    const bias = new Float32Array(heads * T * T); // [heads, T, T]
    const table = new Float32Array(2 * T - 1);
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < table.length; r++) table[r] = embed[buckets[r] * heads + h];
      for (let i = 0; i < T; i++) bias.set(table.subarray(T - 1 - i, 2 * T - 1 - i), (h * T + i) * T); // j − i + T − 1 for j = 0..T−1
    }
    return { ...super.attentionContext(T, frameMask, entropy), positionBias: tf.tensor3d(bias, [heads, T, T]) };
  }

  protected attention(l: number, x: tf.Tensor3D, ctx: AttentionContext): AttentionResult {
    return tf.tidy((): AttentionResult => {
      const p = `encoder.layers.${l}.attention`;
      const [B, T] = x.shape;
      const heads = this.config.numAttentionHeads;
      // gate = a·(b·const_h − 1) + 2, a and b sigmoids of sums of 4 projections of each head's slice of x.
      const y = linear(splitHeads(x, heads), this.w(`${p}.gru_rel_pos_linear.weight`), this.w(`${p}.gru_rel_pos_linear.bias`)); // [B, h, T, 8]
      const [a, b] = tf.split(tf.sigmoid(tf.sum(tf.reshape(y, [B, heads, T, 2, 4]), -1)), 2, -1); // 2 × [B, h, T, 1]
      const gate = tf.add(tf.mul(a, tf.sub(tf.mul(b, this.w(`${p}.gru_rel_pos_const`)), 1)), 2); // [B, h, T, 1]
      return super.attention(l, x, ctx, { bias: ctx.positionBias!, gate: tf.reshape(gate, [B, heads, T]) });
    });
  }
}

/**
 * HF `_relative_positions_bucket` for every offset r = j − i in −(T − 1)..T − 1, at index r + T − 1. With nb = buckets/2 and
 * maxExact = nb/2: bucket(r) = (r > 0 ? nb : 0) + (|r| < maxExact ? |r|
 *   : min(nb − 1, trunc(maxExact + log(|r|/maxExact)/log(maxDistance/maxExact)·(nb − maxExact)))).
 * Torch computes the log branch in float32; float64 gives the same buckets for the real configs (checked against
 * a float32 numpy reference in spec/models/wavlm-buckets.spec.ts).
 */
export function relativePositionBuckets(T: number, numBuckets: number, maxDistance: number): Int32Array {
  const nb = Math.floor(numBuckets / 2);
  const maxExact = Math.floor(nb / 2);
  const byOffset = new Int32Array(2 * T - 1); // index r + T − 1
  for (let r = -(T - 1); r < T; r++) {
    const a = Math.abs(r);
    const large = Math.min(nb - 1, Math.trunc(maxExact + (Math.log(a / maxExact) / Math.log(maxDistance / maxExact)) * (nb - maxExact)));
    byOffset[r + T - 1] = (r > 0 ? nb : 0) + (a < maxExact ? a : large);
  }
  return byOffset;
}
