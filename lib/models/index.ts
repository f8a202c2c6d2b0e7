/** The speech models: load a checkpoint (or an in-memory weight set) into the forward pass for its model_type. */
import { loadModelDir } from '../weights';
import { ModelConfig, PreprocessorConfig, DEFAULT_PREPROCESSOR } from '../weights/config';
import { HostWeightSet } from '../weights/tensor';
import { DeviceWeights } from './device-weights';
import { SpeechModel } from './types';
import { Wav2Vec2Model } from './wav2vec2';
import { WavLMModel } from './wavlm';

export * from './types';
export * from './preprocess';
export * from './outputs';
export * from './summary';
export * from './similarity';
export { STREAM_ABOVE_BYTES, strassenByDefault } from './device-weights';
export { frameLengths, receptiveField } from './feature-encoder';
export { Wav2Vec2Model } from './wav2vec2';
export { WavLMModel, relativePositionBuckets } from './wavlm';

export interface ModelSource {
  config: ModelConfig;
  preprocessor?: PreprocessorConfig;
  weights: HostWeightSet;
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
  /** Resident dense weights as one level of Strassen's blocks (device-weights.ts). Default: unless WAVPROBE_STRASSEN=0. */
  strassen?: boolean;
}

/**
 * Uploads the weights to the current tfjs backend (device-weights.ts: resident ones once, streamed ones per layer
 * per forward) and builds the model for config.modelType.
 */
export function createModel(source: ModelSource, opts: CreateModelOptions = {}): SpeechModel {
  const weights = new DeviceWeights(source.weights, {
    releaseHost: opts.releaseHostWeights,
    streamLayers: opts.streamWeights,
    strassen: opts.strassen,
  });
  const pre = source.preprocessor ?? DEFAULT_PREPROCESSOR;
  const Model = source.config.modelType === 'wavlm' ? WavLMModel : Wav2Vec2Model;
  return new Model(source.config, pre, weights, source.fingerprint ?? null);
}

/** A model directory (HF checkpoint or converted store, see lib/weights) → model on the current backend. */
export function loadModel(dir: string, opts: Pick<CreateModelOptions, 'streamWeights' | 'strassen'> = {}): SpeechModel {
  return createModel(loadModelDir(dir, { keepHalf: true }), { ...opts, releaseHostWeights: true });
}
