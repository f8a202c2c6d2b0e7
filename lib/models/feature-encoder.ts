/**
 * The conv feature encoder shared by wav2vec 2.0, HuBERT and WavLM: per layer Conv1d (no padding) → norm → GELU.
 * "group": a GroupNorm(C, C) on layer 0 only, statistics over the whole time axis of the row (padding included).
 * "layer": a LayerNorm over channels at every layer. Both use eps 1e-5 whatever the config says (HF hard-codes it).
 *
 * Long inputs run in chunks of output frames, so activations stay those of ~10 s whatever the length (layer 0's
 * output alone is [1, 192000, 512], 393 MB, at 60 s). A chunk starts at a multiple of the total stride and ends
 * one receptive field past its last frame, so every layer computes exactly the frames it would on the whole
 * input. The one global step, layer 0's group norm, takes statistics gathered over all of layer 0's frames first.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { consume } from '../nn/consume';
import { conv1d } from '../nn/conv';
import { Epilogue } from '../nn/linear';
import { layerNormGelu, momentsOverTime, normalizeGelu } from '../nn/norm';
import { ModelConfig } from '../weights/config';
import { DeviceWeights } from './device-weights';

const CONV_NORM_EPS = 1e-5;

/** Output frames per chunk: 500 frames = 10 s at 16 kHz. */
export const ENCODER_CHUNK_FRAMES = 500;

type GroupStats = { mean: tf.Tensor3D; variance: tf.Tensor3D }; // each [B, 1, C0]

/** inputValues [B, N] → conv features [B, T, C_last], time-major. */
export function featureEncoder(weights: DeviceWeights, c: ModelConfig, inputValues: tf.Tensor2D, chunkFrames = ENCODER_CHUNK_FRAMES): tf.Tensor3D {
  const [B, N] = inputValues.shape;
  const T = frameLengths(c, [N])[0];
  const hop = totalStride(c);
  const field = receptiveField(c);
  if (T <= chunkFrames) return encodeChunk(weights, c, inputValues); // one chunk: layer 0's statistics are its own
  const stats = c.featExtractNorm === 'group' ? layer0Stats(weights, c, inputValues, chunkFrames * (hop / c.convStride[0])) : undefined;
  const parts: tf.Tensor3D[] = [];
  for (let t0 = 0; t0 < T; t0 += chunkFrames) {
    const frames = Math.min(chunkFrames, T - t0);
    const chunk = tf.slice(inputValues, [0, t0 * hop], [B, (frames - 1) * hop + field]); // [B, n]
    parts.push(encodeChunk(weights, c, chunk, stats));
    chunk.dispose();
  }
  if (stats) tf.dispose([stats.mean, stats.variance]);
  const x = tf.concat(parts, 1); // [B, T, C]
  tf.dispose(parts);
  return x;
}

/** The conv stack on one chunk of samples [B, n] → [B, frames, C_last]; `stats`: layer 0's group-norm statistics, when not the chunk's own. */
function encodeChunk(weights: DeviceWeights, c: ModelConfig, samples: tf.Tensor2D, stats?: GroupStats): tf.Tensor3D {
  const w = (key: string) => weights.get(key);
  let x = tf.expandDims(samples, 2) as tf.Tensor3D; // [B, n, 1]
  for (let i = 0; i < c.convDim.length; i++) {
    const p = `feature_extractor.conv_layers.${i}`;
    // One tidy per layer, every activation freed once used: at 10 s layer 0 alone is [1, 32000, 512] (65 MB).
    const next = tf.tidy(() => {
      if (c.featExtractNorm === 'group' && i > 0) return convLayer(weights, c, i, x, { gelu: true }); // [B, T_i, C_i], no norm
      const y = convLayer(weights, c, i, x); // [B, T_i, C_i]
      if (c.featExtractNorm === 'layer')
        return consume(y, (t) => layerNormGelu(t, w(`${p}.layer_norm.weight`), w(`${p}.layer_norm.bias`), CONV_NORM_EPS));
      const { mean, variance } = stats ?? momentsOverTime(y); // a single chunk's statistics are its own
      return consume(y, (t) => normalizeGelu(t, mean, variance, w(`${p}.layer_norm.weight`), w(`${p}.layer_norm.bias`), CONV_NORM_EPS));
    });
    x.dispose();
    x = next;
  }
  return x;
}

/** Conv layer i: x [B, n, C_(i−1)] → [B, T_i, C_i] (+ bias) (→ GELU). */
function convLayer(weights: DeviceWeights, c: ModelConfig, i: number, x: tf.Tensor3D, then?: Epilogue): tf.Tensor3D {
  const p = `feature_extractor.conv_layers.${i}`;
  const filter = weights.get(`${p}.conv.weight`); // [K_i, C_(i−1), C_i]: HF's [out, in, K] reordered
  return conv1d(x, filter, c.convStride[i], c.convBias ? weights.get(`${p}.conv.bias`) : undefined, then);
}

/**
 * Layer 0's per-row, per-channel mean and variance over all its frames, gathered chunk by chunk (chunks of
 * `chunkFrames` layer-0 frames) and pooled in float64 (Chan et al.'s pairwise update).
 */
function layer0Stats(weights: DeviceWeights, c: ModelConfig, inputValues: tf.Tensor2D, chunkFrames: number): GroupStats {
  const [B, N] = inputValues.shape;
  const [K, S] = [c.convKernel[0], c.convStride[0]];
  const T0 = Math.floor((N - K) / S) + 1;
  const C = c.convDim[0];
  const mean = new Float64Array(B * C);
  const m2 = new Float64Array(B * C); // Σ (x − mean)²
  let count = 0;
  for (let t0 = 0; t0 < T0; t0 += chunkFrames) {
    const n = Math.min(chunkFrames, T0 - t0);
    const [chunkMean, chunkVar] = tf.tidy(() => {
      const chunk = tf.slice(inputValues, [0, t0 * S], [B, (n - 1) * S + K]); // [B, samples]
      const m = momentsOverTime(convLayer(weights, c, 0, tf.expandDims(chunk, 2) as tf.Tensor3D)); // [B, n, C] → 2 × [B, 1, C]
      return [m.mean.dataSync(), m.variance.dataSync()];
    });
    const total = count + n;
    for (let j = 0; j < B * C; j++) {
      const delta = chunkMean[j] - mean[j];
      mean[j] += (delta * n) / total;
      m2[j] += chunkVar[j] * n + (delta * delta * count * n) / total;
    }
    count = total;
  }
  return {
    mean: tf.tensor3d(Float32Array.from(mean), [B, 1, C]),
    variance: tf.tensor3d(
      Float32Array.from(m2, (v) => v / count),
      [B, 1, C],
    ),
  };
}

/** The conv output-length formula, L ← floor((L − kernel)/stride) + 1 per layer; ≤ 0 means too short. */
export function frameLengths(c: ModelConfig, sampleLengths: number[]): number[] {
  return sampleLengths.map((n) => c.convKernel.reduce((len, k, i) => Math.floor((len - k) / c.convStride[i]) + 1, n));
}

/** Samples between consecutive output frames: the product of the strides (320). */
export function totalStride(c: ModelConfig): number {
  return c.convStride.reduce((a, b) => a * b, 1);
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
    throw new UsageError(
      `attention_mask shape ${JSON.stringify(attentionMask.shape)} does not match input_values ${JSON.stringify(inputValues.shape)}`,
    );
  }
}
