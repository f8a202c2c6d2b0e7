/** The two pooled front-ends: a self-supervised speech model (one vector per layer) and the LFCC baseline. */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MIN_SAMPLES } from '../audio';
import { UsageError } from '../errors';
import { modelFingerprint } from '../weights';
import { ModelConfig, readModelConfig } from '../weights/config';
import { SpeechModel, disposeOutput, inputTensors, loadModel, preprocess, receptiveField } from '../models';
import { totalStride } from '../models/feature-encoder';
import type { FrameVectors, FrontEndInfo, FrontEndSpec, PooledFrontEnd, PooledVectors, Pooling } from './frontend';
import { lfccFrames } from './lfcc';
import { meanPool, meanPoolTensor, stdPool, stdPoolTensor } from './pool';

/**
 * A FrontEndSpec's `layers` (the `--layers` argument): `all`, `..k` (0 to k), `a..b`, or `a,b,c` → sorted layer
 * numbers within 0..L. Layer 0 is the encoder input (hidden_states[0]); layer L is the last transformer layer.
 */
export function parseLayers(spec: string | undefined, numLayers: number): number[] {
  const s = (spec ?? 'all').trim();
  let layers: number[];
  const range = /^(\d*)\.\.(\d+)$/.exec(s);
  if (s === 'all') layers = Array.from({ length: numLayers + 1 }, (_, i) => i);
  else if (range) {
    const lo = range[1] === '' ? 0 : Number(range[1]);
    layers = Array.from({ length: Math.max(0, Number(range[2]) - lo + 1) }, (_, i) => lo + i);
  } else if (/^\d+(,\d+)*$/.test(s)) layers = [...new Set(s.split(',').map(Number))].sort((a, b) => a - b);
  else throw new UsageError(`--layers must be "all", "..k", "a..b" or "a,b,c", got "${s}"`);
  const bad = layers.find((k) => k > numLayers);
  if (layers.length === 0 || bad !== undefined) throw new UsageError(`--layers "${s}": the model has layers 0..${numLayers}`);
  return layers;
}

/**
 * Pooled hidden states of an SSL model: one forward per utterance, stopped after the deepest layer asked for,
 * each requested hidden state averaged (and with `mean,std` its standard deviation taken) over all frames (a single
 * unpadded utterance has no padded frames).
 */
export function sslFrontEnd(model: SpeechModel, id: string, layers: number[], pooling: Pooling = 'mean'): PooledFrontEnd {
  const H = model.config.hiddenSize;
  const upToLayer = layers[layers.length - 1];
  const L = layers.length;
  return {
    ...sslInfo(model.config, id, model.fingerprint, layers, pooling),
    async pool(samples: Float32Array): Promise<PooledVectors> {
      const { inputValues, attentionMask } = inputTensors(preprocess([samples], model.preprocessor));
      const out = model.forward(inputValues, { attentionMask, upToLayer });
      const T = out.hiddenStates[0].shape[1];
      const pooled = tf.tidy(() => {
        const means = layers.map((k) => meanPoolTensor(out.hiddenStates[k], out.frameMask)); // [1, H] each
        const stds = pooling === 'mean,std' ? layers.map((k, i) => stdPoolTensor(out.hiddenStates[k], means[i], out.frameMask)) : [];
        return tf.concat([...means, ...stds], 0); // [layers (·2), H]
      });
      tf.dispose([inputValues, attentionMask]);
      disposeOutput(out);
      const flat = (await pooled.data()) as Float32Array;
      pooled.dispose();
      const rows = (from: number) => layers.map((_, i) => flat.slice((from + i) * H, (from + i + 1) * H));
      return { vectors: rows(0), ...(pooling === 'mean,std' && { std: rows(L) }), frames: T };
    },
    async frames(samples: Float32Array, layer: number): Promise<FrameVectors> {
      if (!layers.includes(layer)) throw new RangeError(`frames: layer ${layer} is not one of this front-end's (${layers})`);
      const { inputValues, attentionMask } = inputTensors(preprocess([samples], model.preprocessor));
      const out = model.forward(inputValues, { attentionMask, upToLayer: layer });
      const T = out.hiddenStates[layer].shape[1];
      const data = (await out.hiddenStates[layer].data()) as Float32Array; // [1, T, H]: one unpadded row, every frame valid
      tf.dispose([inputValues, attentionMask]);
      disposeOutput(out);
      return { data, frames: T, dims: H, hop: totalStride(model.config), span: receptiveField(model.config) };
    },
    dispose: () => model.dispose(),
  };
}

export const LFCC_ID = 'lfcc-60 (ASVspoof 2019 baseline: 20 linear filters, 20 coefficients + deltas + delta-deltas)';
const lfccInfo = (pooling: Pooling): FrontEndInfo => ({
  id: LFCC_ID,
  fingerprint: LFCC_ID,
  layers: [0],
  dims: [60],
  pooling,
  minSamples: 320 /* one 20 ms window */,
});

/** The ASVspoof 2019 LFCC baseline as a one-layer front-end (layer 0, 60 dims, mean (and std) over frames). */
export function lfccFrontEnd(pooling: Pooling = 'mean'): PooledFrontEnd {
  return {
    ...lfccInfo(pooling),
    async pool(samples: Float32Array): Promise<PooledVectors> {
      const { data, frames, dims } = lfccFrames(samples, 16000);
      const std = pooling === 'mean,std' ? { std: [stdPool(data, frames, dims, frames)] } : {};
      return { vectors: [meanPool(data, frames, dims, frames)], ...std, frames };
    },
    async frames(samples: Float32Array): Promise<FrameVectors> {
      // 20 ms Hamming windows every 10 ms (lfccFrames' defaults); the last one is zero-padded past the end.
      return { ...lfccFrames(samples, 16000), hop: 160, span: 320 };
    },
    dispose: () => undefined,
  };
}

function sslInfo(config: ModelConfig, id: string, fingerprint: string | null, layers: number[], pooling: Pooling): FrontEndInfo {
  return {
    id,
    fingerprint,
    layers,
    dims: layers.map(() => config.hiddenSize),
    pooling,
    minSamples: Math.max(DEFAULT_MIN_SAMPLES, receptiveField(config)),
  };
}

const LFCC_MODEL = 'lfcc';

function lfccLayers(layersSpec?: string): void {
  if (layersSpec && layersSpec !== 'all' && layersSpec !== '0') throw new UsageError('the lfcc front-end has one layer (0)');
}

/** What `openFrontEnd(spec)` will produce, from config.json alone (no weights are read). */
export function describeFrontEnd(spec: FrontEndSpec): FrontEndInfo {
  if (spec.model === LFCC_MODEL) {
    lfccLayers(spec.layers);
    return lfccInfo(spec.pooling ?? 'mean');
  }
  const config = readModelConfig(spec.model);
  return sslInfo(config, modelId(spec.model), modelFingerprint(spec.model), parseLayers(spec.layers, config.numHiddenLayers), spec.pooling ?? 'mean');
}

/**
 * `--model` → front-end: `lfcc` is the hand-crafted baseline; anything else is a model directory (a converted store
 * or a HF checkpoint directory). The caller disposes it.
 */
export function openFrontEnd(spec: FrontEndSpec): PooledFrontEnd {
  if (spec.model === LFCC_MODEL) {
    lfccLayers(spec.layers);
    return lfccFrontEnd(spec.pooling);
  }
  const model = loadModel(spec.model);
  try {
    return sslFrontEnd(model, modelId(spec.model), parseLayers(spec.layers, model.config.numHiddenLayers), spec.pooling);
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** A model's id for meta.json and head files: its source as recorded at conversion, else the folder name. */
export function modelId(dir: string): string {
  const info = path.join(dir, 'wavprobe.json');
  if (fs.existsSync(info)) {
    const source = (JSON.parse(fs.readFileSync(info, 'utf8')) as { source?: unknown }).source;
    if (typeof source === 'string' && source) return source;
  }
  return path.basename(path.resolve(dir));
}
