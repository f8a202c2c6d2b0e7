/** The speech models: load a checkpoint (or an in-memory weight set) into the forward pass for its model_type. */
import * as tf from '@tensorflow/tfjs-core';
import { packWeight } from '../nn/linear';
import { loadModelDir } from '../weights';
import { ModelConfig, PreprocessorConfig, DEFAULT_PREPROCESSOR } from '../weights/config';
import { WeightSet, sizeOf } from '../weights/tensor';
import { DeviceWeights } from './device-weights';
import { SpeechModel } from './types';
import { Wav2Vec2Model } from './wav2vec2';
import { WavLMModel } from './wavlm';

export * from './types';
export * from './preprocess';
export * from './outputs';
export * from './input';
export * from './summary';
export { frameLengths, receptiveField } from './feature-encoder';
export { Wav2Vec2Model } from './wav2vec2';
export { WavLMModel, relativePositionBuckets } from './wavlm';

export interface ModelSource {
  config: ModelConfig;
  preprocessor?: PreprocessorConfig;
  weights: WeightSet;
  /** See SpeechModel.fingerprint; loadModelDir gives it. */
  fingerprint?: string | null;
}

export interface CreateModelOptions {
  /** Empty `source.weights` as they are uploaded, so the host and device copies never coexist whole. */
  releaseHostWeights?: boolean;
  /**
   * Keep the transformer layers' weights in the JS heap and upload each layer only while it runs. Default: on the
   * wasm backend when the weights exceed STREAM_ABOVE_BYTES, leaving its 4 GB heap to the activations.
   */
  streamWeights?: boolean;
}

/** 1.5 GiB: XLS-R 300M (1.26 GB) stays resident, XLS-R 1B (3.9 GB) streams. */
export const STREAM_ABOVE_BYTES = 1.5 * 2 ** 30;

/** The dense layers' weights, which linear() reads: packed once at load for the kernels' GEMM (lib/nn/linear.ts). */
const isDenseWeight = (key: string) => /(feature_projection\.projection|_proj|intermediate_dense|output_dense)\.weight$/.test(key);

/** Transformer layer weights: everything under encoder.layers.N. except WavLM's position embedding, which all layers share. */
const isLayerWeight = (key: string) => /^encoder\.layers\.\d+\./.test(key) && !key.endsWith('rel_attn_embed.weight');

/**
 * Uploads the weights to the current tfjs backend (resident ones once, streamed ones per layer per forward) and
 * builds the model for config.modelType.
 */
export function createModel(source: ModelSource, opts: CreateModelOptions = {}): SpeechModel {
  let bytes = 0;
  for (const t of source.weights.values()) bytes += 4 * sizeOf(t.shape);
  const stream = opts.streamWeights ?? (tf.getBackend() === 'wasm' && bytes > STREAM_ABOVE_BYTES);
  const weights = new DeviceWeights(source.weights, {
    releaseHost: opts.releaseHostWeights,
    streamed: stream ? isLayerWeight : undefined,
    prepare: (key, t) => (isDenseWeight(key) ? packWeight(t) : t),
  });
  const pre = source.preprocessor ?? DEFAULT_PREPROCESSOR;
  const Model = source.config.modelType === 'wavlm' ? WavLMModel : Wav2Vec2Model;
  return new Model(source.config, pre, weights, source.fingerprint ?? null);
}

/** A model directory (HF checkpoint or converted store, see lib/weights) → model on the current backend. */
export function loadModel(dir: string, opts: { streamWeights?: boolean } = {}): SpeechModel {
  return createModel(loadModelDir(dir), { ...opts, releaseHostWeights: true });
}
