/** What the speech models take and give, independent of the architecture. */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, PreprocessorConfig } from '../weights/config';

export interface ForwardOptions {
  /** [B, N] sample mask: 1 for audio, 0 for right padding. Without it every sample is signal. */
  attentionMask?: tf.Tensor2D;
  /** Stop after encoder layer k (0 ≤ k ≤ L): returns hidden states 0..k and never runs the layers above. Default L. */
  upToLayer?: number;
  /** Extra outputs, off by default. */
  outputs?: { attentionEntropy?: boolean; attentionMaps?: boolean };
}

/** HF semantics (spec/fixtures/golden/README.md). The caller owns every tensor: `tf.dispose(output)` frees them. */
export interface ForwardOutput {
  /** Conv feature encoder output, time-major, before any norm: [B, T, C]. */
  convFeatures: tf.Tensor3D;
  /** LayerNorm(convFeatures) as HF returns it: [B, T, C]. Absent for HuBERT, whose HF model does not return it. */
  extractFeatures?: tf.Tensor3D;
  /** hidden_states[0..k]: k+1 tensors [B, T, H]. For stable-layer-norm models entry L (only) is normalised. */
  hiddenStates: tf.Tensor3D[];
  /** Equal to hiddenStates[L] (its own handle on the same data); only when the forward ran all L layers. */
  lastHiddenState?: tf.Tensor3D;
  /** [B, T] 1/0 frame mask derived from attentionMask; only when one was given. */
  frameMask?: tf.Tensor2D;
  /** Per layer 1..k, each query frame's attention entropy in nats: [B, heads, T]. Only when asked for. */
  attentionEntropy?: tf.Tensor3D[];
  /** Per layer 1..k, the attention probabilities [B, heads, T, T] (query × key). Only when asked for: O(T²) each. */
  attentionMaps?: tf.Tensor4D[];
}

export interface SpeechModel {
  readonly config: ModelConfig;
  readonly preprocessor: PreprocessorConfig;
  /** The model's identity (lib/weights weightsFingerprint), null when unknown (weights built in memory, older stores). */
  readonly fingerprint: string | null;
  /** Whether the transformer layers' weights stay in the JS heap and are uploaded per layer per forward. */
  readonly streamsWeights: boolean;
  /** Whether forward returns extractFeatures (wav2vec2 and WavLM do, HuBERT does not). */
  readonly hasExtractFeatures: boolean;
  /** inputValues [B, N]: preprocessed samples (see preprocess.ts). */
  forward(inputValues: tf.Tensor2D, opts?: ForwardOptions): ForwardOutput;
  /** Frees the weights on the backend; the model cannot be used afterwards. */
  dispose(): void;
}
