/**
 * WavLM (HF WavLMModel, modeling_wavlm.py): wav2vec 2.0's graph (wav2vec2.ts) with a gated relative position bias
 * in every layer's self-attention (Chen et al., "WavLM", §2.2; HF WavLMAttention). Once per forward, from layer 0's
 * embedding (the only layer that has one):
 *   position_bias[h, i, j] = rel_attn_embed[bucket(j − i), h]
 * and in every layer, from its input x and its own gru_rel_pos_* parameters:
 *   gate_a, gate_b = σ(gru_rel_pos_linear(x's slice for head h at frame i) summed in two groups of 4)
 *   gate[b, h, i] = gate_a·(gate_b·gru_rel_pos_const[h] − 1) + 2
 *   scores[b, h, i, j] = q·k/√d + key padding bias + gate[b, h, i]·position_bias[h, i, j]
 */
import * as tf from '@tensorflow/tfjs-core';
import { multiHeadAttention, splitHeads } from '../nn/attention';
import { linear } from '../nn/linear';
import { ModelConfig } from '../weights/config';
import { AttentionSetup, SelfAttention, Wav2Vec2Model, attentionProjections } from './wav2vec2';

export class WavLMModel extends Wav2Vec2Model {
  /** HF WavLMAttention.forward, step by step, for every layer of one forward. */
  protected selfAttention({ frames, keyBias, entropy, probs }: AttentionSetup): SelfAttention {
    const heads = this.config.numAttentionHeads;
    // HF: the first layer computes the bias and every layer after it reuses it.
    const positionBias = computeBias(this.weights.get('encoder.layers.0.attention.rel_attn_embed.weight'), frames, this.config); // [heads, T, T]
    return (hiddenStates, w) =>
      tf.tidy(() => {
        const [B, T] = hiddenStates.shape;
        // 1) each head's slice of the hidden states
        const gatedHiddenStates = splitHeads(hiddenStates, heads); // [B, heads, T, H/heads]
        // 2) projected to 8 values, summed in two groups of 4
        const proj = linear(gatedHiddenStates, w('attention.gru_rel_pos_linear.weight'), w('attention.gru_rel_pos_linear.bias')); // [B, heads, T, 8]; weight [H/heads, 8] ([in, out])
        const relativePositionProj = tf.sum(tf.reshape(proj, [B, heads, T, 2, 4]), -1); // [B, heads, T, 2]
        // 3) the gate of the position bias, per batch row, head and query frame
        const [gateA, gateB] = tf.split(tf.sigmoid(relativePositionProj), 2, -1); // 2 × [B, heads, T, 1]
        const gateOutput = tf.add(tf.mul(gateA, tf.sub(tf.mul(gateB, w('attention.gru_rel_pos_const')), 1)), 2); // [B, heads, T, 1]; const [1, heads, 1, 1]
        // 4) attention with the gated bias gate[b, h, i]·position_bias[h, i, j] (applied inside lib/nn's attention)
        const position = { bias: positionBias, gate: tf.reshape(gateOutput, [B, heads, T]) as tf.Tensor3D };
        return multiHeadAttention(hiddenStates, attentionProjections(w), heads, { keyBias, entropy, probs, position });
      });
  }
}

/**
 * HF compute_bias: bias[h, i, j] = embed[bucket(j − i), h] for i, j < T. It depends on j − i only, so row i of
 * head h is a window of one table of 2T − 1 values: laid out on the host (tfjs-wasm's gather of T²·heads values
 * took ~170 ms at 10 s).
 */
function computeBias(relAttnEmbed: tf.Tensor, T: number, c: ModelConfig): tf.Tensor3D {
  const heads = c.numAttentionHeads;
  const embed = relAttnEmbed.dataSync(); // [buckets, heads]
  const buckets = relativePositionBuckets(T, c.numBuckets, c.maxBucketDistance); // [2T − 1], by j − i + T − 1
  const bias = new Float32Array(heads * T * T); // [heads, T, T]
  const table = new Float32Array(2 * T - 1);
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < table.length; r++) table[r] = embed[buckets[r] * heads + h];
    for (let i = 0; i < T; i++) bias.set(table.subarray(T - 1 - i, 2 * T - 1 - i), (h * T + i) * T); // j − i + T − 1 for j = 0..T−1
  }
  return tf.tensor3d(bias, [heads, T, T]);
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
