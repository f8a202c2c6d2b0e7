/** The speech models: load a checkpoint (or an in-memory weight set) into the forward pass for its model_type. */
import { loadModelDir } from '../weights';
import { ModelConfig, PreprocessorConfig, DEFAULT_PREPROCESSOR } from '../weights/config';
import { WeightSet } from '../weights/tensor';
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
}

/**
 * Uploads the weights (once each) to the current tfjs backend and builds the model for config.modelType.
 * `releaseHostWeights` empties `source.weights` as it goes, so the host and device copies never coexist whole.
 */
export function createModel(source: ModelSource, opts: { releaseHostWeights?: boolean } = {}): SpeechModel {
  const weights = new DeviceWeights(source.weights, { releaseHost: opts.releaseHostWeights });
  const pre = source.preprocessor ?? DEFAULT_PREPROCESSOR;
  return source.config.modelType === 'wavlm' ? new WavLMModel(source.config, pre, weights) : new Wav2Vec2Model(source.config, pre, weights);
}

/** A model directory (HF checkpoint or converted store, see lib/weights) → model on the current backend. */
export function loadModel(dir: string): SpeechModel {
  return createModel(loadModelDir(dir), { releaseHostWeights: true });
}
