/**
 * Wav2Vec2FeatureExtractor(padding=True) as configured by preprocessor_config.json: right-pad to the longest
 * row with padding_value, then, if do_normalize, (x − mean)/sqrt(var + 1e-7) per row (population variance).
 * With a mask the statistics come from the valid samples and the tail is reset to padding_value; without one
 * (return_attention_mask = false) they come from the whole padded row and the tail is normalised like signal.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { PreprocessorConfig } from '../weights/config';

export interface ModelInput {
  /** [B, N] row-major. */
  inputValues: Float32Array;
  /** [B, N] 1/0 sample mask, only when the preprocessor returns one (or the input file has one). */
  attentionMask?: Float32Array;
  B: number;
  N: number;
}

const NORM_EPS = 1e-7;

export function preprocess(rows: Float32Array[], cfg: PreprocessorConfig): ModelInput {
  if (rows.length === 0) throw new UsageError('preprocess needs at least one waveform');
  const B = rows.length;
  const N = Math.max(...rows.map((r) => r.length));
  const inputValues = new Float32Array(B * N);
  const attentionMask = cfg.returnAttentionMask ? new Float32Array(B * N) : undefined;
  rows.forEach((row, b) => {
    const out = inputValues.subarray(b * N, (b + 1) * N);
    out.fill(cfg.paddingValue);
    out.set(row);
    attentionMask?.fill(1, b * N, b * N + row.length);
    if (!cfg.doNormalize) return;
    // Statistics in float64 over the valid samples (with a mask) or over the padded row (without one).
    const valid = attentionMask ? row.length : N;
    let sum = 0;
    for (let i = 0; i < valid; i++) sum += out[i];
    const mean = sum / valid;
    let ss = 0;
    for (let i = 0; i < valid; i++) ss += (out[i] - mean) ** 2;
    const std = Math.sqrt(ss / valid + NORM_EPS);
    for (let i = 0; i < valid; i++) out[i] = (out[i] - mean) / std; // with a mask the tail keeps padding_value
  });
  return { inputValues, attentionMask, B, N };
}

/** The tensors forward() takes; the caller disposes them. */
export function inputTensors(input: ModelInput): { inputValues: tf.Tensor2D; attentionMask?: tf.Tensor2D } {
  return {
    inputValues: tf.tensor2d(input.inputValues, [input.B, input.N]),
    attentionMask: input.attentionMask && tf.tensor2d(input.attentionMask, [input.B, input.N]),
  };
}
