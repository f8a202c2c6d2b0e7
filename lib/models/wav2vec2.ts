/**
 * wav2vec 2.0 / XLS-R (HF Wav2Vec2Model) and HuBERT (HubertModel: the same graph, no extract_features output).
 *
 *   conv feature encoder → LayerNorm (= extract_features) → Linear → zero padded frames
 *   → + GELU(grouped positional conv) → transformer layers, post-norm or pre-norm ("stable layer norm").
 *
 * WavLM (wavlm.ts) is this model with a different attention; it overrides attentionContext() and attention().
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { AttentionResult, PositionBias, keyPaddingBias, multiHeadAttention } from '../nn/attention';
import { groupedConv1d } from '../nn/conv';
import { linear } from '../nn/linear';
import { layerNorm } from '../nn/norm';
import { ModelConfig, PreprocessorConfig } from '../weights/config';
import { DeviceWeights } from './device-weights';
import { checkInput, featureEncoder, frameMaskFrom } from './feature-encoder';
import { ForwardOptions, ForwardOutput, SpeechModel } from './types';

/** Per-forward state every layer's attention reads. */
export interface AttentionContext {
  /** The additive key padding bias [B, T], when a mask was given. */
  keyBias?: tf.Tensor2D;
  /** WavLM: the ungated relative position bias [heads, T, T], computed once per forward. */
  positionBias?: tf.Tensor3D;
  entropy: boolean;
}

type LayerResult = { hidden: tf.Tensor3D; entropy?: tf.Tensor3D };

const POS_CONV = 'encoder.pos_conv_embed.conv';

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
    this.streamsWeights = weights.streams('encoder.layers.');
  }

  protected w(key: string): tf.Tensor {
    return this.weights.get(key);
  }

  forward(inputValues: tf.Tensor2D, opts: ForwardOptions = {}): ForwardOutput {
    const c = this.config;
    const L = c.numHiddenLayers;
    const upTo = opts.upToLayer ?? L;
    if (!Number.isInteger(upTo) || upTo < 0 || upTo > L) throw new UsageError(`upToLayer must be an integer in 0..${L}, got ${upTo}`);
    checkInput(c, inputValues, opts.attentionMask);
    return tf.tidy(() => {
      const convFeatures = featureEncoder(this.weights, c, inputValues); // [B, T, C]
      const T = convFeatures.shape[1];
      const frameMask = opts.attentionMask && frameMaskFrom(c, opts.attentionMask, T); // [B, T]

      // Feature projection; HF's extract_features is the normalised conv output.
      const extractFeatures = layerNorm(convFeatures, this.w('feature_projection.layer_norm.weight'), this.w('feature_projection.layer_norm.bias'), c.layerNormEps); // [B, T, C]
      let hidden = linear(extractFeatures, this.w('feature_projection.projection.weight'), this.w('feature_projection.projection.bias')); // [B, T, H]

      // Encoder input: padded frames set to 0, then the convolutional position embedding added.
      if (frameMask) hidden = tf.mul(hidden, tf.expandDims(frameMask, 2));
      hidden = tf.add(hidden, this.positionEmbedding(hidden));
      if (!c.doStableLayerNorm) hidden = this.encoderNorm(hidden);

      const hiddenStates = [hidden];
      const attentionEntropy: tf.Tensor3D[] = [];
      let ctx: AttentionContext | undefined; // built before the first layer only: upToLayer 0 runs no attention
      for (let l = 0; l < upTo; l++) {
        const layerCtx = (ctx ??= this.attentionContext(T, frameMask, !!opts.outputs?.attentionEntropy));
        const input = hidden;
        const out = this.withLayerWeights(l, () => this.layer(l, input, layerCtx));
        hidden = out.hidden; // [B, T, H]
        hiddenStates.push(hidden);
        if (out.entropy) attentionEntropy.push(out.entropy);
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
      return result as unknown as tf.TensorContainer;
    }) as unknown as ForwardOutput;
  }

  dispose(): void {
    this.weights.dispose();
  }

  /** GELU(grouped conv(x)), padding K//2 each side; "SamePad" drops the extra last frame of an even kernel. */
  private positionEmbedding(x: tf.Tensor3D): tf.Tensor3D {
    const c = this.config;
    const frames = x.shape[1]; // T: an even kernel's extra last frame is dropped
    return groupedConv1d(x, this.w(`${POS_CONV}.weight`), c.numConvPosEmbeddingGroups, Math.floor(c.numConvPosEmbeddings / 2), this.w(`${POS_CONV}.bias`), { gelu: true, frames }); // [B, T, H]
  }

  private encoderNorm(x: tf.Tensor3D): tf.Tensor3D {
    return layerNorm(x, this.w('encoder.layer_norm.weight'), this.w('encoder.layer_norm.bias'), this.config.layerNormEps);
  }

  /** Runs fn with layer l's weights on the backend: resident ones always are; streamed ones are uploaded for fn only. */
  private withLayerWeights<T>(l: number, fn: () => T): T {
    const prefix = layerPrefix(l);
    if (!this.weights.streams(prefix)) return fn();
    this.weights.load(prefix);
    try {
      return fn();
    } finally {
      this.weights.unload(prefix);
    }
  }

  /** One transformer layer, in its own tidy so its intermediates go before the next layer starts. */
  private layer(l: number, x: tf.Tensor3D, ctx: AttentionContext): LayerResult {
    return tf.tidy((): LayerResult => {
      const p = `encoder.layers.${l}`;
      const eps = this.config.layerNormEps;
      const norm1 = (t: tf.Tensor3D) => layerNorm(t, this.w(`${p}.layer_norm.weight`), this.w(`${p}.layer_norm.bias`), eps);
      const norm2 = (t: tf.Tensor3D) => layerNorm(t, this.w(`${p}.final_layer_norm.weight`), this.w(`${p}.final_layer_norm.bias`), eps);
      if (this.config.doStableLayerNorm) {
        // Pre-norm: x = x + Attn(LN1(x)); x = x + FFN(LN2(x)).
        const att = this.attention(l, norm1(x), ctx);
        let h = tf.add<tf.Tensor3D>(x, att.output); // [B, T, H]
        h = tf.add<tf.Tensor3D>(h, this.feedForward(l, norm2(h)));
        return { hidden: h, entropy: att.entropy };
      }
      // Post-norm: x = LN1(x + Attn(x)); x = LN2(x + FFN(x)).
      const att = this.attention(l, x, ctx);
      let h = norm1(tf.add(x, att.output)); // [B, T, H]
      h = norm2(tf.add(h, this.feedForward(l, h)));
      return { hidden: h, entropy: att.entropy };
    });
  }

  private feedForward(l: number, x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const p = `encoder.layers.${l}.feed_forward`;
      const inner = linear(x, this.w(`${p}.intermediate_dense.weight`), this.w(`${p}.intermediate_dense.bias`), { gelu: true }); // [B, T, FFN]
      return linear(inner, this.w(`${p}.output_dense.weight`), this.w(`${p}.output_dense.bias`)); // [B, T, H]
    });
  }

  /** What every layer's attention shares in one forward. Runs inside the forward's tidy. */
  protected attentionContext(_T: number, frameMask: tf.Tensor2D | undefined, entropy: boolean): AttentionContext {
    return { keyBias: frameMask && keyPaddingBias(frameMask), entropy };
  }

  protected attention(l: number, x: tf.Tensor3D, ctx: AttentionContext, position?: PositionBias): AttentionResult {
    const w = (name: string) => this.w(`${layerPrefix(l)}attention.${name}`);
    const p = {
      qWeight: w('q_proj.weight'),
      qBias: w('q_proj.bias'),
      kWeight: w('k_proj.weight'),
      kBias: w('k_proj.bias'),
      vWeight: w('v_proj.weight'),
      vBias: w('v_proj.bias'),
      outWeight: w('out_proj.weight'),
      outBias: w('out_proj.bias'),
    };
    return multiHeadAttention(x, p, this.config.numAttentionHeads, { keyBias: ctx.keyBias, position, entropy: ctx.entropy });
  }
}

const layerPrefix = (l: number) => `encoder.layers.${l}.`;
