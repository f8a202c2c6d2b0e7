/**
 * Kernel benchmarks in a model's own shapes (every conv layer, the grouped positional conv, the dense layers,
 * attention plain and per-head, layer norm, GELU). Each kernel is first checked against a reference on short
 * inputs (the same op on tfjs's cpu backend, whose JS kernels share no code with wasm's XNNPACK), then timed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, useBackend, wasmThreadsCount } from '../backend';
import { kernelsInUse } from '../kernels';
import { AttentionParams, multiHeadAttention, selfAttention } from '../nn/attention';
import { conv1d, groupedConv1d } from '../nn/conv';
import { gelu } from '../nn/gelu';
import { linear } from '../nn/linear';
import { layerNorm } from '../nn/norm';
import { frameLengths } from '../models';
import { mulberry32 } from '../random';
import { ModelConfig } from '../weights/config';
import { median, timeRuns } from './machine';
import { round } from './forward';

interface Kernel {
  name: string;
  /** Inputs at `len` time steps (the kernel's own time axis). */
  make(len: number): tf.Tensor[];
  run(inputs: tf.Tensor[]): tf.Tensor;
  flop(len: number): number;
  len: number;
  /** Time steps of the reference check: short, so the cpu backend runs it quickly. */
  checkLen: number;
}

export interface KernelResult {
  kernel: string;
  backend: string;
  threads: number;
  /** wavprobe-relaxed|wavprobe-plain|tfjs (lib/kernels): what ran the model's ops. */
  kernels: string;
  len: number;
  /** Max abs error against the reference, relative where the reference exceeds 1. */
  max_err: number;
  ok: boolean;
  median_ms?: number;
  gflops?: number;
}

/** Seeded uniform(−scale, scale) tensor; the same data on any backend. */
function seeded(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rand = mulberry32(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = scale * (2 * rand() - 1);
  return tf.tensor(data, shape);
}

function attentionParams(H: number, seed: number): AttentionParams {
  const w = (i: number) => seeded([H, H], seed + i, 1 / Math.sqrt(H));
  const b = (i: number) => seeded([H], seed + 10 + i, 0.1);
  return { qWeight: w(0), qBias: b(0), kWeight: w(1), kBias: b(1), vWeight: w(2), vBias: b(2), outWeight: w(3), outBias: b(3) };
}

/** The kernels of one forward of config c on `samples` samples. */
export function modelKernels(c: ModelConfig, samples: number): Kernel[] {
  const T = frameLengths(c, [samples])[0];
  const H = c.hiddenSize;
  const F = c.intermediateSize;
  const kernels: Kernel[] = [];
  let len = samples;
  let cin = 1;
  c.convDim.forEach((cout, i) => {
    const [K, s, inC] = [c.convKernel[i], c.convStride[i], cin];
    const outLen = (n: number) => Math.floor((n - K) / s) + 1;
    kernels.push({
      name: `conv${i} k${K} s${s} ${inC}→${cout}`,
      make: (n) => [seeded([1, n, inC], 1), seeded([K, inC, cout], 2, 1 / Math.sqrt(K * inC))],
      run: ([x, f]) => conv1d(x as tf.Tensor3D, f, s),
      flop: (n) => 2 * outLen(n) * cout * inC * K,
      len,
      checkLen: K + 31 * s,
    });
    len = outLen(len);
    cin = cout;
  });
  const K = c.numConvPosEmbeddings;
  const G = c.numConvPosEmbeddingGroups;
  kernels.push({
    name: `pos conv k${K} groups ${G}`,
    make: (n) => [seeded([1, n, H], 3), seeded([K, H / G, H], 4, 1 / Math.sqrt(K * (H / G)))],
    run: ([x, filter]) => groupedConv1d(x as tf.Tensor3D, filter, G, K / 2),
    flop: (n) => 2 * n * H * (H / G) * K,
    len: T,
    checkLen: 40,
  });
  const dense = (name: string, i: number, o: number): Kernel => ({
    name,
    make: (n) => [seeded([n, i], 5), seeded([i, o], 6, 1 / Math.sqrt(i)), seeded([o], 7, 0.1)],
    run: ([x, w, b]) => linear(x, w, b),
    flop: (n) => 2 * n * i * o,
    len: T,
    checkLen: 32,
  });
  kernels.push(dense(`dense ${H}→${H} (q/k/v/out)`, H, H), dense(`dense ${H}→${F} (ffn up)`, H, F), dense(`dense ${F}→${H} (ffn down)`, F, H));
  const heads = c.numAttentionHeads;
  const x = (n: number) => seeded([1, n, H], 8);
  const flop = (n: number) => 8 * n * H * H + 4 * n * n * H;
  const attention = (name: string, attend: typeof multiHeadAttention): Kernel => ({
    name: `${name} ${heads} heads`,
    make: (n) => [x(n), ...Object.values(attentionParams(H, 20))],
    run: ([x, qWeight, qBias, kWeight, kBias, vWeight, vBias, outWeight, outBias]) =>
      attend(x as tf.Tensor3D, { qWeight, qBias, kWeight, kBias, vWeight, vBias, outWeight, outBias }, heads).output,
    flop,
    len: T,
    checkLen: 24,
  });
  kernels.push(attention('attention, batched-matMul core (no fused kernel)', selfAttention), attention('attention', multiHeadAttention));
  kernels.push({
    name: `layer norm ${H}`,
    make: (n) => [seeded([n, H], 9), seeded([H], 10), seeded([H], 11)],
    run: ([x, g, b]) => layerNorm(x, g, b, 1e-5),
    flop: (n) => 8 * n * H,
    len: T,
    checkLen: 32,
  });
  kernels.push({
    name: `gelu ${F}`,
    make: (n) => [seeded([n, F], 12, 4)],
    run: ([x]) => gelu(x),
    flop: (n) => 8 * n * F,
    len: T,
    checkLen: 32,
  });
  return kernels;
}

/** Runs k at its check length on `backend`, returns the output values. */
async function outputOn(backend: BackendName, k: Kernel): Promise<Float32Array> {
  await useBackend(backend);
  const inputs = k.make(k.checkLen);
  const out = k.run(inputs);
  const data = out.dataSync() as Float32Array;
  tf.dispose([out, ...inputs]);
  return data;
}

export async function benchKernels(
  c: ModelConfig,
  samples: number,
  opts: { backend?: BackendName; threads?: number; runs?: number; only?: RegExp } = {},
): Promise<KernelResult[]> {
  const backend = opts.backend ?? 'wasm';
  await useBackend(backend, { threads: opts.threads });
  const threads = backend === 'wasm' ? await wasmThreadsCount() : 1;
  const results: KernelResult[] = [];
  for (const k of modelKernels(c, samples).filter((k) => !opts.only || opts.only.test(k.name))) {
    const got = await outputOn(backend, k);
    const want = await outputOn('cpu', k);
    let err = got.length === want.length ? 0 : Infinity;
    for (let i = 0; i < want.length && err < Infinity; i++) err = Math.max(err, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    await useBackend(backend);
    const r: KernelResult = {
      kernel: k.name,
      backend,
      threads,
      kernels: kernelsInUse(),
      len: k.len,
      max_err: Number(err.toExponential(2)),
      ok: err <= 1e-4,
    };
    if (r.ok) {
      const inputs = k.make(k.len);
      const ms = median(timeRuns(opts.runs ?? 3, () => k.run(inputs))) * 1000;
      tf.dispose(inputs);
      r.median_ms = round(ms, 2);
      r.gflops = round(k.flop(k.len) / ms / 1e6, 2);
    }
    results.push(r);
  }
  return results;
}
