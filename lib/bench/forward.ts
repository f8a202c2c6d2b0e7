/**
 * End-to-end forward benchmark of a preset (presets.ts) on seeded random weights (lib/models/random.ts): a seeded
 * test signal through the model, timed over several runs after a warm-up run, with the analytic FLOP count.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, useBackend, wasmThreadsCount } from '../backend';
import { kernelsInUse } from '../kernels';
import { createModel, frameLengths, inputTensors, preprocess, strassenByDefault } from '../models';
import { randomModelSource } from '../models/random';
import { mulberry32 } from '../random';
import { ModelConfig } from '../weights/config';
import { MachineInfo, machineInfo, median, timeRuns } from './machine';
import { PRESETS, PresetName } from './presets';
import { peakRssBytes } from './rss';

export interface ForwardBenchOptions {
  /** A preset, or any config (the smoke spec uses a tiny one). */
  arch: PresetName | ModelConfig;
  seconds: number;
  /** Stop after this encoder layer (default: all). */
  upToLayer?: number;
  runs?: number;
  backend?: BackendName;
  threads?: number;
  /** Force weight streaming on or off (default: createModel's choice). */
  streamWeights?: boolean;
  /** Resident dense weights as Strassen's blocks (default: createModel's). */
  strassen?: boolean;
}

export interface ForwardBenchResult {
  arch: string;
  backend: string;
  threads: number;
  audio_s: number;
  layers: number;
  runs: number;
  median_s: number;
  min_s: number;
  /** Real-time factor: median seconds of compute per second of audio. */
  rtf: number;
  gflop: number;
  gflops: number;
  load_s: number;
  /** Whether the layers' weights were uploaded per forward (createModel's choice for large models on wasm). */
  streamed_weights: boolean;
  /** Whether resident dense weights were laid out for one level of Strassen. */
  strassen: boolean;
  peak_rss_mb: number;
  machine: MachineInfo;
}

/** Seeded test signal at 16 kHz: two harmonics plus noise. */
export function testSignal(seconds: number, seed = 7): Float32Array {
  const rand = mulberry32(seed);
  const x = new Float32Array(Math.round(seconds * 16000));
  for (let i = 0; i < x.length; i++) {
    const t = i / 16000;
    x[i] = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.1 * Math.sin(2 * Math.PI * 1330 * t) + 0.05 * (2 * rand() - 1);
  }
  return x;
}

/**
 * Multiply-adds ×2 of one forward on `samples` samples up to layer `upToLayer`: conv encoder, feature projection,
 * positional conv, and per layer the four projections (8·T·H²), scores and context (4·T²·H) and the FFN (4·T·H·F).
 */
export function forwardFlop(c: ModelConfig, samples: number, upToLayer = c.numHiddenLayers): number {
  let flop = 0;
  let len = samples;
  let cin = 1;
  c.convDim.forEach((cout, i) => {
    len = Math.floor((len - c.convKernel[i]) / c.convStride[i]) + 1;
    flop += 2 * len * cout * cin * c.convKernel[i];
    cin = cout;
  });
  const T = frameLengths(c, [samples])[0];
  const H = c.hiddenSize;
  flop += 2 * T * cin * H + 2 * T * H * (H / c.numConvPosEmbeddingGroups) * c.numConvPosEmbeddings;
  return flop + upToLayer * (8 * T * H * H + 4 * T * T * H + 4 * T * H * c.intermediateSize);
}

export async function benchForward(o: ForwardBenchOptions): Promise<ForwardBenchResult> {
  const backend = await useBackend(o.backend ?? 'wasm', { threads: o.threads });
  const config = typeof o.arch === 'string' ? PRESETS[o.arch] : o.arch;
  const upToLayer = o.upToLayer ?? config.numHiddenLayers;
  const strassen = o.strassen ?? strassenByDefault();
  const t0 = performance.now();
  const model = createModel(randomModelSource(config), { releaseHostWeights: true, streamWeights: o.streamWeights, strassen });
  const loadSeconds = (performance.now() - t0) / 1000;
  const signal = testSignal(o.seconds);
  const { inputValues } = inputTensors(preprocess([signal], model.preprocessor));
  let seconds: number[];
  try {
    seconds = timeRuns(o.runs ?? 3, () => model.forward(inputValues, { upToLayer }) as unknown as tf.TensorContainer);
  } finally {
    inputValues.dispose();
    model.dispose();
  }
  const gflop = forwardFlop(config, signal.length, upToLayer) / 1e9;
  const med = median(seconds);
  return {
    arch: typeof o.arch === 'string' ? o.arch : o.arch.modelType,
    backend,
    threads: backend === 'wasm' ? await wasmThreadsCount() : 1,
    audio_s: o.seconds,
    layers: upToLayer,
    runs: seconds.length,
    median_s: round(med),
    min_s: round(Math.min(...seconds)),
    rtf: round(med / o.seconds),
    gflop: round(gflop, 1),
    gflops: round(gflop / med, 1),
    load_s: round(loadSeconds),
    streamed_weights: model.streamsWeights,
    strassen: strassen && !model.streamsWeights && kernelsInUse() !== 'tfjs',
    peak_rss_mb: Math.round(peakRssBytes() / 2 ** 20),
    machine: machineInfo(),
  };
}

export function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}
