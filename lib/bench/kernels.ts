/**
 * Kernel benchmarks in a model's own shapes: every op of one forward (conv layers with their bias and norm, the
 * grouped positional conv, the dense layers, the attention core, layer norms, residual adds), each with how many
 * times a forward runs it, so a forward's time and FLOPs split by kernel; plus whole attention blocks and a bare
 * GELU for comparison (count 0). Each kernel is first checked against a reference on short inputs (the same op on
 * tfjs's cpu backend, whose JS kernels share no code with wasm's XNNPACK), then timed: wall time, and the
 * process's CPU time (every thread's), which a machine shared with other jobs disturbs less.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, useBackend, wasmThreadsCount } from '../backend';
import { kernelsInUse } from '../kernels';
import { AttentionParams, attentionCore, multiHeadAttention, selfAttention } from '../nn/attention';
import { conv1d, groupedConv1d, packGroupedFilter } from '../nn/conv';
import { gelu } from '../nn/gelu';
import { linear, packWeight } from '../nn/linear';
import { layerNorm, layerNormGelu, momentsOverTime, normalizeGelu } from '../nn/norm';
import { frameLengths, strassenByDefault } from '../models';
import { mulberry32 } from '../random';
import { ModelConfig } from '../weights/config';
import { median } from './machine';
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
  /** How many times one forward runs it (0: shown for comparison, not part of a forward). */
  count: number;
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
  /** How many times one forward runs it. */
  count: number;
  /** Its share of a forward's FLOPs (count × its FLOPs over all counted kernels'). */
  flop_share: number;
  median_ms?: number;
  /** Median CPU time of one run, all threads together. */
  cpu_ms?: number;
  gflops?: number;
  /** count × median_ms and count × cpu_ms: its time in one forward. */
  forward_ms?: number;
  forward_cpu_ms?: number;
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
  const L = c.numHiddenLayers;
  const kernels: Kernel[] = [];
  let len = samples;
  let cin = 1;
  c.convDim.forEach((cout, i) => {
    const [K, s, inC] = [c.convKernel[i], c.convStride[i], cin];
    const outLen = (n: number) => Math.floor((n - K) / s) + 1;
    // "group": layer 0's conv, then its norm; later layers' GELU fused into the conv. "layer": conv, then layer norm + GELU.
    const fusedGelu = c.featExtractNorm === 'group' && i > 0;
    kernels.push({
      name: `conv${i} k${K} s${s} ${inC}→${cout}${c.convBias ? ' +bias' : ''}${fusedGelu ? ' +GELU' : ''}`,
      make: (n) => [seeded([1, n, inC], 1), seeded([K, inC, cout], 2, 1 / Math.sqrt(K * inC)), ...(c.convBias ? [seeded([cout], 13, 0.1)] : [])],
      run: ([x, f, b]) => conv1d(x as tf.Tensor3D, f, s, b, { gelu: fusedGelu }),
      flop: (n) => 2 * outLen(n) * cout * inC * K,
      len,
      checkLen: K + 31 * s,
      count: 1,
    });
    len = outLen(len);
    const norm = { make: (n: number) => [seeded([1, n, cout], 14, 2), seeded([cout], 15), seeded([cout], 16)], len, checkLen: 32, count: 1 };
    if (c.featExtractNorm === 'layer')
      kernels.push({
        name: `conv${i} layer norm + GELU ${cout}`,
        run: ([x, g, b]) => layerNormGelu(x, g, b, 1e-5),
        flop: (n) => 16 * n * cout,
        ...norm,
      });
    else if (i === 0)
      kernels.push({
        name: `conv0 group norm + GELU ${cout}`,
        run: ([x, g, b]) => {
          const { mean, variance } = momentsOverTime(x as tf.Tensor3D);
          return normalizeGelu(x as tf.Tensor3D, mean, variance, g, b, 1e-5);
        },
        flop: (n) => 19 * n * cout,
        ...norm,
      });
    cin = cout;
  });
  const dense = (name: string, i: number, o: number, count: number): Kernel => ({
    name,
    make: (n) => [seeded([n, i], 5), packWeight(seeded([i, o], 6, 1 / Math.sqrt(i)), { strassen: strassenByDefault() }), seeded([o], 7, 0.1)], // as a model holds them
    run: ([x, w, b]) => linear(x, w, b, { gelu: name.includes('GELU') }),
    flop: (n) => 2 * n * i * o,
    len: T,
    checkLen: 32,
    count,
  });
  kernels.push(dense(`dense ${cin}→${H} (feature projection)`, cin, H, 1));
  const K = c.numConvPosEmbeddings;
  const G = c.numConvPosEmbeddingGroups;
  kernels.push({
    name: `pos conv k${K} groups ${G} +GELU`,
    make: (n) => [seeded([1, n, H], 3), packGroupedFilter(seeded([K, H / G, H], 4, 1 / Math.sqrt(K * (H / G)))), seeded([H], 17, 0.1)], // as a model holds it
    run: ([x, filter, b]) => groupedConv1d(x as tf.Tensor3D, filter, G, K / 2, b, { gelu: true, frames: x.shape[1] }),
    flop: (n) => 2 * n * H * (H / G) * K,
    len: T,
    checkLen: 40,
    count: 1,
  });
  kernels.push(
    dense(`dense ${H}→${H} (q/k/v/out)`, H, H, 4 * L),
    dense(`dense ${H}→${F} +GELU (ffn up)`, H, F, L),
    dense(`dense ${F}→${H} (ffn down)`, F, H, L),
  );
  const heads = c.numAttentionHeads;
  const x = (n: number) => seeded([1, n, H], 8);
  kernels.push({
    name: `attention core ${heads} heads`,
    make: (n) => [seeded([1, n, H], 18), seeded([1, n, H], 19), seeded([1, n, H], 20)],
    run: ([q, k, v]) => attentionCore(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, heads),
    flop: (n) => 4 * n * n * H,
    len: T,
    checkLen: 24,
    count: L,
  });
  const attention = (name: string, attend: typeof multiHeadAttention): Kernel => ({
    name: `${name} ${heads} heads`,
    make: (n) => [x(n), ...Object.values(attentionParams(H, 20))],
    run: ([x, qWeight, qBias, kWeight, kBias, vWeight, vBias, outWeight, outBias]) =>
      attend(x as tf.Tensor3D, { qWeight, qBias, kWeight, kBias, vWeight, vBias, outWeight, outBias }, heads).output,
    flop: (n) => 8 * n * H * H + 4 * n * n * H,
    len: T,
    checkLen: 24,
    count: 0,
  });
  kernels.push(attention('attention, batched-matMul core (no fused kernel)', selfAttention), attention('attention', multiHeadAttention));
  kernels.push({
    name: `layer norm ${H}`,
    make: (n) => [seeded([n, H], 9), seeded([H], 10), seeded([H], 11)],
    run: ([x, g, b]) => layerNorm(x, g, b, 1e-5),
    flop: (n) => 8 * n * H,
    len: T,
    checkLen: 32,
    count: 2 * L + 1, // two per layer, the encoder's
  });
  kernels.push({
    name: `feature projection norm ${cin}`,
    make: (n) => [seeded([n, cin], 9), seeded([cin], 10), seeded([cin], 11)],
    run: ([x, g, b]) => layerNorm(x, g, b, 1e-5),
    flop: (n) => 8 * n * cin,
    len: T,
    checkLen: 32,
    count: 1,
  });
  kernels.push({
    name: `residual add ${H}`,
    make: (n) => [seeded([1, n, H], 21), seeded([1, n, H], 22)],
    run: ([a, b]) => tf.add(a, b),
    flop: (n) => n * H,
    len: T,
    checkLen: 32,
    count: 2 * L + 1, // two per layer, the position embedding's
  });
  kernels.push({
    name: `gelu ${F} (alone; fused into ffn up)`,
    make: (n) => [seeded([n, F], 12, 4)],
    run: ([x]) => gelu(x),
    flop: (n) => 8 * n * F,
    len: T,
    checkLen: 32,
    count: 0,
  });
  return kernels;
}

/** Wall and CPU milliseconds of each of `runs` calls of f (results disposed), after one warm-up call. */
function timeWallCpu(runs: number, f: () => tf.TensorContainer): { wall: number[]; cpu: number[] } {
  tf.dispose(f());
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [t0, c0] = [performance.now(), process.cpuUsage()];
    const out = f();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
    tf.dispose(out);
  }
  return { wall, cpu };
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
  const all = modelKernels(c, samples);
  const forwardFlop = all.reduce((sum, k) => sum + k.count * k.flop(k.len), 0);
  for (const k of all.filter((k) => !opts.only || opts.only.test(k.name))) {
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
      count: k.count,
      flop_share: round((k.count * k.flop(k.len)) / forwardFlop, 4),
    };
    if (r.ok) {
      const inputs = k.make(k.len);
      const t = timeWallCpu(opts.runs ?? 3, () => k.run(inputs));
      tf.dispose(inputs);
      const [ms, cpu] = [median(t.wall), median(t.cpu)];
      Object.assign(r, { median_ms: round(ms, 2), cpu_ms: round(cpu, 2), gflops: round(k.flop(k.len) / ms / 1e6, 2) });
      if (k.count) Object.assign(r, { forward_ms: round(k.count * ms, 1), forward_cpu_ms: round(k.count * cpu, 1) });
    }
    results.push(r);
  }
  return results;
}
