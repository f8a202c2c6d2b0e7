/**
 * wav2vec 2.0 / XLS-R (HF Wav2Vec2Model) and HuBERT (HubertModel: the same graph, no extract_features output).
 *
 *   conv feature encoder → LayerNorm (= extract_features) → Linear → zero padded frames
 *   → + GELU(grouped positional conv) → transformer layers, post-norm or pre-norm ("stable layer norm").
 *
 * WavLM (wavlm.ts) is this model with its own self-attention: it overrides selfAttention().
 * Weights come from the weights provider (device-weights.ts), by HF key, in stored layouts: linear weights
 * [in, out] (HF's [out, in] transposed), conv filters [K, in/groups, out] (HF's [out, in/groups, K] reordered).
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { AttentionParams, AttentionResult, keyPaddingBias, multiHeadAttention } from '../nn/attention';
import { groupedConv1d } from '../nn/conv';
import { linear } from '../nn/linear';
import { layerNorm } from '../nn/norm';
import { ModelConfig, PreprocessorConfig } from '../weights/config';
import { DeviceWeights, LayerWeights } from './device-weights';
import { checkInput, featureEncoder, frameMaskFrom } from './feature-encoder';
import { ForwardOptions, ForwardOutput, SpeechModel } from './types';

/** What every layer's self-attention shares in one forward. */
export interface AttentionSetup {
  /** T, the number of frames. */
  frames: number;
  /** The additive key padding bias [B, T], when a mask was given. */
  keyBias?: tf.Tensor2D;
  /** Whether to return each query's attention entropy. */
  entropy: boolean;
  /** Whether to return the attention probabilities. */
  probs: boolean;
}

/** One layer's self-attention: x [B, T, H] and the layer's weights → [B, T, H] (and the entropy, when asked for). */
export type SelfAttention = (x: tf.Tensor3D, w: LayerWeights) => AttentionResult;

type LayerResult = { hidden: tf.Tensor3D; entropy?: tf.Tensor3D; probs?: tf.Tensor4D };

export class Wav2Vec2Model implements SpeechModel {
  readonly hasExtractFeatures: boolean;
  readonly streamsWeights: boolean;

  constructor(
    readonly config: ModelConfig,
    readonly preprocessor: PreprocessorConfig,
    protected readonly weights: DeviceWeights,
    readonly fingerprint: string | null = null,
  ) {
    this.hasExtractFeatures = config.modelType !== 'hubert';
    this.streamsWeights = weights.streamsLayers;
  }

  forward(inputValues: tf.Tensor2D, opts: ForwardOptions = {}): ForwardOutput {
    const c = this.config;
    const L = c.numHiddenLayers;
    const upTo = opts.upToLayer ?? L;
    if (!Number.isInteger(upTo) || upTo < 0 || upTo > L) throw new UsageError(`upToLayer must be an integer in 0..${L}, got ${upTo}`);
    checkInput(c, inputValues, opts.attentionMask);
    const w = (key: string) => this.weights.get(key);
    return tf.tidy(() => {
      const convFeatures = featureEncoder(this.weights, c, inputValues); // [B, T, C]
      const T = convFeatures.shape[1];
      const frameMask = opts.attentionMask && frameMaskFrom(c, opts.attentionMask, T); // [B, T]

      // Feature projection; HF's extract_features is the normalised conv output.
      const extractFeatures = layerNorm(
        convFeatures,
        w('feature_projection.layer_norm.weight'),
        w('feature_projection.layer_norm.bias'),
        c.layerNormEps,
      ); // [B, T, C]
      let hidden = linear(extractFeatures, w('feature_projection.projection.weight'), w('feature_projection.projection.bias')); // [B, T, H]; weight [C, H] ([in, out])

      // Encoder input: padded frames set to 0, then the convolutional position embedding added.
      if (frameMask) hidden = tf.mul(hidden, tf.expandDims(frameMask, 2));
      hidden = tf.add(hidden, this.positionEmbedding(hidden));
      if (!c.doStableLayerNorm) hidden = this.encoderNorm(hidden);

      const hiddenStates = [hidden];
      const attentionEntropy: tf.Tensor3D[] = [];
      const attentionMaps: tf.Tensor4D[] = [];
      let attend: SelfAttention | undefined; // set up before the first layer only: upToLayer 0 runs no attention
      for (let l = 0; l < upTo; l++) {
        const layerAttention = (attend ??= this.selfAttention({
          frames: T,
          keyBias: frameMask && keyPaddingBias(frameMask),
          entropy: !!opts.outputs?.attentionEntropy,
          probs: !!opts.outputs?.attentionMaps,
        }));
        const input = hidden;
        const out = this.weights.withLayer(l, (lw) => this.layer(lw, input, layerAttention));
        hidden = out.hidden; // [B, T, H]
        hiddenStates.push(hidden);
        if (out.entropy) attentionEntropy.push(out.entropy);
        if (out.probs) attentionMaps.push(out.probs);
      }

      const result: ForwardOutput = { convFeatures, hiddenStates };
      if (upTo === L) {
        // Stable layer norm: the final encoder norm belongs to the last entry only.
        if (c.doStableLayerNorm) hiddenStates[L] = this.encoderNorm(hidden);
        result.lastHiddenState = tf.clone(hiddenStates[L]);
      }
      if (this.hasExtractFeatures) result.extractFeatures = extractFeatures;
      if (frameMask) result.frameMask = frameMask;
      if (opts.outputs?.attentionEntropy) result.attentionEntropy = attentionEntropy;
      if (opts.outputs?.attentionMaps) result.attentionMaps = attentionMaps;
      return result as unknown as tf.TensorContainer;
    }) as unknown as ForwardOutput;
  }

  dispose(): void {
    this.weights.dispose();
  }

  /**
   * The self-attention of this forward's layers, set up once inside the forward's tidy: plain multi-head attention
   * with the key padding bias.
   */
  protected selfAttention(setup: AttentionSetup): SelfAttention {
    return (x, w) =>
      multiHeadAttention(x, attentionProjections(w), this.config.numAttentionHeads, {
        keyBias: setup.keyBias,
        entropy: setup.entropy,
        probs: setup.probs,
      });
  }

  /** GELU(grouped conv(x)), padding K//2 each side; "SamePad" drops the extra last frame of an even kernel. */
  private positionEmbedding(x: tf.Tensor3D): tf.Tensor3D {
    const c = this.config;
    const frames = x.shape[1]; // T: an even kernel's extra last frame is dropped
    const filter = this.weights.get('encoder.pos_conv_embed.conv.weight'); // [K, H/groups, H] (HF's [H, H/groups, K] reordered), weight norm folded
    const bias = this.weights.get('encoder.pos_conv_embed.conv.bias');
    return groupedConv1d(x, filter, c.numConvPosEmbeddingGroups, Math.floor(c.numConvPosEmbeddings / 2), bias, { gelu: true, frames }); // [B, T, H]
  }

  private encoderNorm(x: tf.Tensor3D): tf.Tensor3D {
    return layerNorm(x, this.weights.get('encoder.layer_norm.weight'), this.weights.get('encoder.layer_norm.bias'), this.config.layerNormEps);
  }

  /** One transformer layer, in its own tidy so its intermediates go before the next layer starts. */
  private layer(w: LayerWeights, x: tf.Tensor3D, attend: SelfAttention): LayerResult {
    return tf.tidy((): LayerResult => {
      const eps = this.config.layerNormEps;
      const norm1 = (t: tf.Tensor3D) => layerNorm(t, w('layer_norm.weight'), w('layer_norm.bias'), eps);
      const norm2 = (t: tf.Tensor3D) => layerNorm(t, w('final_layer_norm.weight'), w('final_layer_norm.bias'), eps);
      if (this.config.doStableLayerNorm) {
        // Pre-norm: x = x + Attn(LN1(x)); x = x + FFN(LN2(x)).
        const att = attend(norm1(x), w);
        let h = tf.add<tf.Tensor3D>(x, att.output); // [B, T, H]
        h = tf.add<tf.Tensor3D>(h, feedForward(w, norm2(h)));
        return { hidden: h, entropy: att.entropy, probs: att.probs };
      }
      // Post-norm: x = LN1(x + Attn(x)); x = LN2(x + FFN(x)).
      const att = attend(x, w);
      let h = norm1(tf.add(x, att.output)); // [B, T, H]
      h = norm2(tf.add(h, feedForward(w, h)));
      return { hidden: h, entropy: att.entropy, probs: att.probs };
    });
  }
}

/** A layer's q/k/v/out projections; each weight [H, H] ([in, out]), each bias [H]. */
export function attentionProjections(w: LayerWeights): AttentionParams {
  return {
    qWeight: w('attention.q_proj.weight'),
    qBias: w('attention.q_proj.bias'),
    kWeight: w('attention.k_proj.weight'),
    kBias: w('attention.k_proj.bias'),
    vWeight: w('attention.v_proj.weight'),
    vBias: w('attention.v_proj.bias'),
    outWeight: w('attention.out_proj.weight'),
    outBias: w('attention.out_proj.bias'),
  };
}

function feedForward(w: LayerWeights, x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const inner = linear(x, w('feed_forward.intermediate_dense.weight'), w('feed_forward.intermediate_dense.bias'), { gelu: true }); // [B, T, FFN]; weight [H, FFN] ([in, out])
    return linear(inner, w('feed_forward.output_dense.weight'), w('feed_forward.output_dense.bias')); // [B, T, H]; weight [FFN, H] ([in, out])
  });
}
