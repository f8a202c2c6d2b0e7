/**
 * The conv feature encoder shared by wav2vec 2.0, HuBERT and WavLM: per layer Conv1d (no padding) → norm → GELU.
 * "group": a GroupNorm(C, C) on layer 0 only, statistics over the whole time axis of the row (padding included).
 * "layer": a LayerNorm over channels at every layer. Both use eps 1e-5 whatever the config says (HF hard-codes it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { consume } from '../nn/consume';
import { conv1d } from '../nn/conv';
import { gelu } from '../nn/gelu';
import { groupNormPerChannel, layerNorm } from '../nn/norm';
import { ModelConfig } from '../weights/config';
import { DeviceWeights } from './device-weights';

const CONV_NORM_EPS = 1e-5;

/** inputValues [B, N] → conv features [B, T, C_last], time-major. */
export function featureEncoder(weights: DeviceWeights, c: ModelConfig, inputValues: tf.Tensor2D): tf.Tensor3D {
  const w = (key: string) => weights.get(key);
  let x = tf.expandDims(inputValues, 2) as tf.Tensor3D; // [B, N, 1]
  for (let i = 0; i < c.convDim.length; i++) {
    const p = `feature_extractor.conv_layers.${i}`;
    // One tidy per layer, every activation freed once used: at 10 s layer 0 alone is [1, 32000, 512] (65 MB).
    const next = tf.tidy(() => {
      let y = conv1d(x, w(`${p}.conv.weight`), c.convStride[i], c.convBias ? w(`${p}.conv.bias`) : undefined); // [B, T_i, C_i]
      if (c.featExtractNorm === 'layer') y = consume(y, (t) => layerNorm(t, w(`${p}.layer_norm.weight`), w(`${p}.layer_norm.bias`), CONV_NORM_EPS));
      else if (i === 0) y = consume(y, (t) => groupNormPerChannel(t, w(`${p}.layer_norm.weight`), w(`${p}.layer_norm.bias`), CONV_NORM_EPS));
      return consume(y, gelu);
    });
    x.dispose();
    x = next;
  }
  return x;
}

/** The conv output-length formula, L ← floor((L − kernel)/stride) + 1 per layer; ≤ 0 means too short. */
export function frameLengths(c: ModelConfig, sampleLengths: number[]): number[] {
  return sampleLengths.map((n) => c.convKernel.reduce((len, k, i) => Math.floor((len - k) / c.convStride[i]) + 1, n));
}

/** The fewest samples that give one frame. */
export function receptiveField(c: ModelConfig): number {
  return c.convKernel.reduceRight((n, k, i) => (n - 1) * c.convStride[i] + k, 1);
}

/** [B, N] 1/0 sample mask → [B, T] frame mask: frame t of a row is valid iff t < its frame length. */
export function frameMaskFrom(c: ModelConfig, attentionMask: tf.Tensor2D, T: number): tf.Tensor2D {
  const sums = tf.sum(attentionMask, 1); // [B]
  const lengths = frameLengths(c, Array.from(sums.dataSync()));
  sums.dispose();
  const mask = new Float32Array(lengths.length * T);
  lengths.forEach((len, b) => mask.fill(1, b * T, b * T + Math.max(0, Math.min(len, T))));
  return tf.tensor2d(mask, [lengths.length, T]);
}

/** Rejects inputs the encoder cannot take, with the reason. */
export function checkInput(c: ModelConfig, inputValues: tf.Tensor, attentionMask?: tf.Tensor): void {
  if (inputValues.rank !== 2) throw new UsageError(`input_values must be [batch, samples], got shape ${JSON.stringify(inputValues.shape)}`);
  const n = inputValues.shape[1] as number;
  if (n < receptiveField(c)) throw new UsageError(`input of ${n} samples is shorter than the model's receptive field (${receptiveField(c)} samples)`);
  if (attentionMask && (attentionMask.rank !== 2 || attentionMask.shape.some((d, i) => d !== inputValues.shape[i]))) {
    throw new UsageError(`attention_mask shape ${JSON.stringify(attentionMask.shape)} does not match input_values ${JSON.stringify(inputValues.shape)}`);
  }
}
