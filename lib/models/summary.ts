/** What `wavprobe inspect` shows: the architecture, parameters per block, per-layer activation statistics. */
import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig } from '../weights/config';
import { expectedWeights } from '../weights/keymap';
import { sizeOf } from '../weights/tensor';
import { ForwardOutput } from './types';

export interface BlockParameters {
  block: string;
  count: number;
}

/** Parameters the forward pass reads, per block (the positional conv's weight norm counted folded). */
export function parameterCounts(c: ModelConfig): BlockParameters[] {
  const blocks = new Map<string, number>();
  for (const e of expectedWeights(c)) {
    const parts = e.key.split('.');
    const block = parts[0] === 'encoder' ? (parts[1] === 'layers' ? parts.slice(0, 3) : parts.slice(0, 2)).join('.') : parts[0];
    blocks.set(block, (blocks.get(block) ?? 0) + sizeOf(e.hfShape));
  }
  return [...blocks].map(([block, count]) => ({ block, count }));
}

export function totalParameters(c: ModelConfig): number {
  return parameterCounts(c).reduce((n, b) => n + b.count, 0);
}

/** The config in words and numbers. */
export function describeArchitecture(c: ModelConfig): Record<string, string | number | boolean> {
  const frameStride = c.convStride.reduce((a, b) => a * b, 1);
  const d: Record<string, string | number | boolean> = {
    model_type: c.modelType,
    layers: c.numHiddenLayers,
    hidden_size: c.hiddenSize,
    attention_heads: c.numAttentionHeads,
    ffn_size: c.intermediateSize,
    conv_layers: c.convDim.map((ch, i) => `${ch}/k${c.convKernel[i]}/s${c.convStride[i]}`).join(' '),
    conv_bias: c.convBias,
    feat_extract_norm: c.featExtractNorm,
    encoder: c.doStableLayerNorm ? 'pre-norm (stable layer norm)' : 'post-norm',
    layer_norm_eps: c.layerNormEps,
    pos_conv: `K=${c.numConvPosEmbeddings} groups=${c.numConvPosEmbeddingGroups}`,
    frame_stride_samples: frameStride,
  };
  if (c.modelType === 'wavlm') d.relative_position_bias = `buckets=${c.numBuckets} max_distance=${c.maxBucketDistance}`;
  return d;
}

export interface LayerStats {
  /** hidden_states index: 0 is the encoder input, l the output of layer l. */
  layer: number;
  mean: number;
  std: number;
  /** Mean L2 norm of a frame vector. */
  frameNorm: number;
  /** Mean attention entropy (nats) of each head of this layer over valid query frames (layers ≥ 1). */
  attentionEntropy?: number[];
}

/** Statistics of every hidden state over the valid frames (all frames without a mask), all rows pooled. */
export function layerStats(out: ForwardOutput): LayerStats[] {
  const [B, T] = out.convFeatures.shape;
  const mask = out.frameMask ? (out.frameMask.dataSync() as Float32Array) : new Float32Array(B * T).fill(1);
  const validFrames = mask.reduce((n, v) => n + v, 0);
  return out.hiddenStates.map((h, layer) => {
    const H = h.shape[2];
    const x = h.dataSync();
    let sum = 0;
    let sq = 0;
    let norms = 0;
    for (let f = 0; f < B * T; f++) {
      if (!mask[f]) continue;
      let frameSq = 0;
      for (let i = f * H; i < (f + 1) * H; i++) {
        sum += x[i];
        frameSq += x[i] * x[i];
      }
      sq += frameSq;
      norms += Math.sqrt(frameSq);
    }
    const n = validFrames * H;
    const mean = sum / n;
    const stats: LayerStats = { layer, mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)), frameNorm: norms / validFrames };
    const ent = layer > 0 ? out.attentionEntropy?.[layer - 1] : undefined;
    if (ent) stats.attentionEntropy = meanEntropyPerHead(ent, mask);
    return stats;
  });
}

/** [B, heads, T] per-query entropies → per-head mean over valid query frames. */
function meanEntropyPerHead(entropy: tf.Tensor3D, mask: ArrayLike<number>): number[] {
  const [B, heads, T] = entropy.shape;
  const e = entropy.dataSync();
  return Array.from({ length: heads }, (_, h) => {
    let s = 0;
    let n = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        if (!mask[b * T + t]) continue;
        s += e[(b * heads + h) * T + t];
        n++;
      }
    }
    return s / n;
  });
}
