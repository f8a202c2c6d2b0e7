/**
 * WavLM (HF WavLMModel): wav2vec 2.0's graph (wav2vec2.ts) with a gated relative position bias in attention.
 * Layer 0's `rel_attn_embed` gives bias[h, i, j] = embed[bucket(j − i), h], computed once per forward and reused,
 * ungated, by every layer; each layer gates it per query frame with its own gru_rel_pos_* parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AttentionResult, splitHeads } from '../nn/attention';
import { linear } from '../nn/linear';
import { AttentionContext, Wav2Vec2Model } from './wav2vec2';

export class WavLMModel extends Wav2Vec2Model {
  protected attentionContext(T: number, frameMask: tf.Tensor2D | undefined, entropy: boolean): AttentionContext {
    const c = this.config;
    const embed = this.w('encoder.layers.0.attention.rel_attn_embed.weight'); // [buckets, heads]
    const buckets = tf.tensor1d(relativePositionBuckets(T, c.numBuckets, c.maxBucketDistance), 'int32'); // [T·T]
    const values = tf.reshape(tf.gather(embed, buckets), [T, T, c.numAttentionHeads]); // [T, T, heads]
    const positionBias = tf.transpose(values, [2, 0, 1]) as tf.Tensor3D; // [heads, T, T]
    return { ...super.attentionContext(T, frameMask, entropy), positionBias };
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
 * HF `_relative_positions_bucket` for every (query i, key j), row-major [T·T]. With nb = buckets/2 and
 * maxExact = nb/2: bucket(r) = (r > 0 ? nb : 0) + (|r| < maxExact ? |r|
 *   : min(nb − 1, trunc(maxExact + log(|r|/maxExact)/log(maxDistance/maxExact)·(nb − maxExact)))).
 * Torch computes the log branch in float32; float64 gives the same buckets for the real configs (checked against
 * a float32 numpy reference in spec/nn/buckets.spec.ts).
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
  const out = new Int32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) out[i * T + j] = byOffset[j - i + T - 1];
  return out;
}
