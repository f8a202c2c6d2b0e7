/**
 * wavprobe's own wasm SIMD kernels (kernels.c: GEMM on weights packed at load or per call, 1-D convolution as a GEMM
 * over overlapping rows, the kernel-3 stride-2 conv with shared products, the grouped conv, GELU, layer norm with
 * an optional fused GELU, a per-channel normalisation fused with GELU, the multi-head attention core) run
 * in place on tfjs-wasm's heap: the module imports the backend's own memory, reads its tensors where they lie and
 * writes into outputs the backend allocates, so nothing is copied. They are registered as tfjs kernels (Wavprobe*)
 * on the wasm backend, so tidy() and dispose() treat their outputs like any other.
 *
 * Why: tfjs-wasm's XNNPACK GEMM runs at ~25 GFLOP/s per core here, these at ~45 (relaxed-SIMD FMA); its exact
 * GELU is 5 passes around a scalar erf (~14 ns per value), this one is one SIMD pass (~1 ns). With the
 * threaded build (--threads N) the memory is shared and N − 1 worker threads (pool.ts) take slices of each job.
 *
 * lib/nn calls kernels() and falls back to plain tfjs ops when it answers undefined (other backends, or
 * WAVPROBE_KERNELS=tfjs to compare).
 */
import * as v8 from 'v8';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { KERNEL_BINARIES } from './binaries';
import { Job, WorkerPool } from './pool';

/** The exports of kernels.c; pointers are byte offsets in the backend's memory. */
export interface KernelExports {
  gemm_packed_bytes(K: number, N: number): number;
  gemm_scratch_bytes(): number;
  gemm_cols(A: number, lda: number, B: number, Bp: number, bias: number, C: number, M: number, K: number, N: number, gelu: number, p0: number, p1: number, Ap: number): void;
  pack_cols(B: number, Bp: number, K: number, N: number, p0: number, p1: number): void;
  conv3s2_scratch_bytes(Cin: number): number;
  conv3s2_cols(x: number, Cin: number, W: number, Bp: number, bias: number, y: number, Tout: number, Cout: number, gelu: number, p0: number, p1: number, Ap: number): void;
  grouped_conv_cols(x: number, Cin: number, groups: number, taps: number, W: number, Bp: number, bias: number, y: number, Tout: number, Cout: number, gelu: number, g0: number, g1: number, Ap: number): void;
  gelu_range(x: number, y: number, i0: number, i1: number): void;
  layer_norm_rows(x: number, y: number, gamma: number, beta: number, C: number, eps: number, gelu: number, r0: number, r1: number): void;
  column_sums(x: number, C: number, r0: number, r1: number, out: number): void;
  normalize_gelu_rows(x: number, y: number, mean: number, scale: number, beta: number, C: number, T: number, r0: number, r1: number): void;
  attention_scratch_bytes(T: number, d: number): number;
  attention_heads(q: number, k: number, v: number, out: number, pos: number, gate: number, key: number, T: number, H: number, heads: number, scale: number, u0: number, u1: number, scratch: number): void;
}

/** The parts of tfjs-wasm's emscripten module used here and by lib/backend.ts. */
export interface WasmModule {
  _malloc(bytes: number): number;
  _free(offset: number): void;
  HEAPU8: Uint8Array;
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
}
interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** Panels of 8 output columns (kernels.c's NR). */
const NR = 8;
/** conv3s2_cols runs its 2·Cin-long products as one K block (kernels.c's KC). */
const CONV3S2_MAX_K = 1536;
/** Below this many multiply-adds a job is not worth waking the workers for (~20 µs per round trip). */
const PARALLEL_MIN_FLOP = 4e6;
const PARALLEL_MIN_VALUES = 1 << 16;

export class Kernels {
  readonly variant: 'relaxed' | 'plain';
  private readonly k: KernelExports;
  private readonly pool?: WorkerPool;

  constructor(
    private readonly backend: WasmBackend,
    private readonly memory: WebAssembly.Memory,
    threads: number,
  ) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const mem = shared ? 'shared' : 'local';
    const relaxed = Buffer.from(KERNEL_BINARIES[`relaxed-${mem}`], 'base64');
    if (!WebAssembly.validate(relaxed)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20; shipped in later V8s
    this.variant = WebAssembly.validate(relaxed) ? 'relaxed' : 'plain';
    const module = new WebAssembly.Module(this.variant === 'relaxed' ? relaxed : Buffer.from(KERNEL_BINARIES[`plain-${mem}`], 'base64'));
    this.k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    if (shared && threads > 1) this.pool = WorkerPool.start(module, memory, backend.wasm, threads - 1);
  }

  get threads(): number {
    return 1 + (this.pool?.size ?? 0);
  }

  /**
   * Runs `own` over [0, total) on this thread, or splits the range with the workers (job `kind`, same arguments)
   * when there are some and the job is `worth` a round trip (~20 µs).
   */
  private spread(kind: Job, args: readonly number[], total: number, align: number, worth: boolean, own: (lo: number, hi: number) => void, floatSlots?: readonly number[]): void {
    if (this.pool && worth) this.pool.run(kind, args, total, align, own, floatSlots);
    else own(0, total);
  }

  private malloc(bytes: number): number {
    return this.backend.wasm._malloc(bytes) >>> 0;
  }

  private offset(t: tf.TensorInfo): number {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error('tensor is not on the wasm backend');
    return d.memoryOffset >>> 0;
  }

  /**
   * out[b] = A_b·B (+ bias) for b < batch, where row r of A_b starts at value b·batchStride + r·rowStride of `a`
   * and has K = B.shape[0] values (rows may overlap: a convolution); GELU applied in the same pass when g.gelu.
   * Returns [batch, rows, N].
   */
  gemm(a: tf.TensorInfo, b: tf.TensorInfo, bias: tf.TensorInfo | undefined, g: GemmShape): tf.TensorInfo {
    const [K, N] = b.shape;
    const { batch, rows, rowStride, batchStride, gelu, packed } = g;
    if (b.shape.length !== 2 || (bias && (bias.shape.length !== 1 || bias.shape[0] !== N)) || (packed && N % NR)) {
      throw new UsageError(`gemm: weight ${JSON.stringify(b.shape)}${packed ? ' (packed)' : ''} and bias ${JSON.stringify(bias?.shape)} do not fit`);
    }
    const aSize = sizeOf(a);
    if (rows < 1 || batch < 1 || (batch - 1) * batchStride + (rows - 1) * rowStride + K > aSize) {
      throw new UsageError(`gemm: ${batch}×${rows} rows of ${K} (stride ${rowStride}) overrun an input of ${aSize} values`);
    }
    const out = this.backend.makeOutput([batch, rows, N], 'float32');
    const [A, B, C] = [this.offset(a), this.offset(b), this.offset(out)];
    const biasAt = bias ? this.offset(bias) : 0;
    const work = { packed: packed ? 0 : this.k.gemm_packed_bytes(K, N), scratch: this.k.gemm_scratch_bytes() };
    const worth = 2 * rows * K * N >= PARALLEL_MIN_FLOP && N > NR;
    this.perBatchRow('gemm', this.k.gemm_cols, work, batch, Math.ceil(N / NR), worth, (i, Bp) => {
      const weight = packed ? B : Bp; // gemm_cols skips packing when its Bp is its B
      return [A + 4 * i * batchStride, rowStride, i > 0 ? weight : B, weight, biasAt, C + 4 * i * rows * N, rows, K, N, gelu ? 1 : 0];
    });
    return out;
  }

  /**
   * Runs a weight-packing job (`fn`, pool job `kind`) once per batch row, its slice [lo, hi) of `total` split over
   * the threads when `worth` it. One allocation holds the packed weight (work.packed bytes; the first row packs
   * it, later rows get it as their weight and skip packing) and each thread's scratch (work.scratch bytes), passed
   * last. args(i, packed): row i's arguments before lo and hi.
   */
  private perBatchRow(
    kind: Job,
    fn: (...a: number[]) => void,
    work: { packed: number; scratch: number },
    batch: number,
    total: number,
    worth: boolean,
    args: (i: number, packed: number) => number[],
  ): void {
    const packed = this.malloc(work.packed + this.threads * work.scratch);
    const scratch = packed + work.packed;
    try {
      for (let i = 0; i < batch; i++) {
        const a = args(i, packed);
        const own = (lo: number, hi: number) => fn(...a, lo, hi, scratch + (this.threads - 1) * work.scratch);
        this.spread(kind, [...a, scratch, work.scratch], total, 1, worth, own);
      }
    } finally {
      this.backend.wasm._free(packed);
    }
  }

  /**
   * A weight b [K, N] (N a multiple of 8) in the layout gemm() reads with `packed`: 8-column panels, k-major. Same
   * shape and size; only gemm() may read it.
   */
  packWeight(b: tf.TensorInfo): tf.TensorInfo {
    const [K, N] = b.shape;
    if (b.shape.length !== 2 || N % NR) throw new UsageError(`pack: weight ${JSON.stringify(b.shape)} is not [K, N] with N a multiple of ${NR}`);
    const out = this.backend.makeOutput([K, N], 'float32');
    const args = [this.offset(b), this.offset(out), K, N] as const;
    const own = (lo: number, hi: number) => this.k.pack_cols(...args, lo, hi);
    this.spread('pack', args, N / NR, 1, K * N >= PARALLEL_MIN_VALUES, own);
    return out;
  }

  /**
   * 1-D convolution without padding: x [B, T, Cin], filter [kernel·Cin, Cout] → [B, floor((T − kernel)/stride) + 1,
   * Cout] (+ bias, then GELU when g.gelu). Kernel 3, stride 2 (the conv encoder's middle layers) takes the
   * shared-product route (kernels.c's conv3s2_cols, 5/6 of the multiply-adds); any other shape is the GEMM over
   * overlapping rows.
   */
  conv(x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | undefined, { kernel, stride, gelu }: ConvAttrs): tf.TensorInfo {
    const [B, T, Cin] = x.shape;
    const [KCin, Cout] = filter.shape;
    if (x.shape.length !== 3 || filter.shape.length !== 2 || KCin !== kernel * Cin || T < kernel) {
      throw new UsageError(`conv: input ${JSON.stringify(x.shape)} and filter ${JSON.stringify(filter.shape)} do not fit kernel ${kernel}`);
    }
    const rows = Math.floor((T - kernel) / stride) + 1;
    if (kernel !== 3 || stride !== 2 || 2 * Cin > CONV3S2_MAX_K) {
      return this.gemm(x, filter, bias, { batch: B, rows, rowStride: stride * Cin, batchStride: T * Cin, gelu });
    }
    if (bias && bias.shape.join() !== `${Cout}`) throw new UsageError(`conv: bias ${JSON.stringify(bias.shape)} does not match ${Cout} channels`);
    const out = this.backend.makeOutput([B, rows, Cout], 'float32');
    const [X, W, Y] = [this.offset(x), this.offset(filter), this.offset(out)];
    const biasAt = bias ? this.offset(bias) : 0;
    const work = { packed: this.k.gemm_packed_bytes(5 * Cin, Cout), scratch: this.k.conv3s2_scratch_bytes(Cin) };
    const worth = 5 * rows * Cin * Cout >= PARALLEL_MIN_FLOP && Cout > NR;
    this.perBatchRow('conv3s2', this.k.conv3s2_cols, work, B, Math.ceil(Cout / NR), worth, (i, packed) => [
      X + 4 * i * T * Cin, Cin, i > 0 ? packed : W, packed, biasAt, Y + 4 * i * rows * Cout, rows, Cout, gelu ? 1 : 0,
    ]);
    return out;
  }

  /**
   * Grouped stride-1 convolution of an already padded x [B, T, Cin] with filter [taps·Cin/groups, Cout] (tfjs's
   * [taps, Cin/groups, Cout] flattened) → [B, rows, Cout] (+ bias, then GELU when g.gelu), rows ≤ T − taps + 1.
   * Each group is a GEMM that reads its channels in place and writes its columns of the output: no split, no
   * concat. Groups are split over the threads.
   */
  groupedConv(x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | undefined, { groups, taps, rows, gelu }: GroupedConvAttrs): tf.TensorInfo {
    const [B, T, Cin] = x.shape;
    const [K, Cout] = filter.shape;
    if (x.shape.length !== 3 || Cin % groups || Cout % groups || K !== (taps * Cin) / groups || rows < 1 || rows > T - taps + 1 || (bias && bias.shape.join() !== `${Cout}`)) {
      throw new UsageError(`grouped conv: input ${JSON.stringify(x.shape)}, filter ${JSON.stringify(filter.shape)} and bias ${JSON.stringify(bias?.shape)} do not fit ${groups} groups of ${taps} taps and ${rows} frames`);
    }
    const out = this.backend.makeOutput([B, rows, Cout], 'float32');
    const [X, W, Y] = [this.offset(x), this.offset(filter), this.offset(out)];
    const biasAt = bias ? this.offset(bias) : 0;
    const work = { packed: groups * this.k.gemm_packed_bytes(K, Cout / groups), scratch: this.k.gemm_scratch_bytes() };
    const worth = 2 * rows * K * Cout >= PARALLEL_MIN_FLOP && groups > 1;
    this.perBatchRow('groupedConv', this.k.grouped_conv_cols, work, B, groups, worth, (i, packed) => [
      X + 4 * i * T * Cin, Cin, groups, taps, i > 0 ? packed : W, packed, biasAt, Y + 4 * i * rows * Cout, rows, Cout, gelu ? 1 : 0,
    ]);
    return out;
  }

  gelu(x: tf.TensorInfo): tf.TensorInfo {
    const n = sizeOf(x);
    const out = this.backend.makeOutput([...x.shape], 'float32');
    const [src, dst] = [this.offset(x), this.offset(out)];
    const own = (lo: number, hi: number) => this.k.gelu_range(src, dst, lo, hi);
    this.spread('gelu', [src, dst], n, 4, n >= PARALLEL_MIN_VALUES, own);
    return out;
  }

  layerNorm(x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo, { eps, gelu }: LayerNormAttrs): tf.TensorInfo {
    const C = x.shape[x.shape.length - 1];
    if (gamma.shape.join() !== `${C}` || beta.shape.join() !== `${C}`) {
      throw new UsageError(`layer norm: gamma ${JSON.stringify(gamma.shape)} / beta ${JSON.stringify(beta.shape)} do not match ${C} channels`);
    }
    const rows = sizeOf(x) / C;
    const out = this.backend.makeOutput([...x.shape], 'float32');
    const args = [this.offset(x), this.offset(out), this.offset(gamma), this.offset(beta), C, eps, gelu ? 1 : 0] as const;
    const own = (lo: number, hi: number) => this.k.layer_norm_rows(...args, lo, hi);
    this.spread('layerNorm', args, rows, 1, rows * C >= PARALLEL_MIN_VALUES, own, [5]);
    return out;
  }

  /**
   * Per batch row and channel of x [B, T, C], the mean and population variance over time, from float64 sums
   * (rows split over the threads, partial sums added here in float64).
   */
  momentsOverTime(x: tf.TensorInfo): { mean: Float32Array; variance: Float32Array } {
    const [B, T, C] = x.shape;
    const stride = 16 * C; // 2·C doubles per thread
    const sums = this.malloc(this.threads * stride);
    const mean = new Float32Array(B * C);
    const variance = new Float32Array(B * C);
    try {
      for (let b = 0; b < B; b++) {
        const rows = this.offset(x) + 4 * b * T * C;
        const own = (lo: number, hi: number) => this.k.column_sums(rows, C, lo, hi, sums + (this.threads - 1) * stride);
        new Float64Array(this.memory.buffer, sums, 2 * C * this.threads).fill(0); // a thread may get no rows
        this.spread('columnSums', [rows, C, sums, stride], T, 1, T * C >= PARALLEL_MIN_VALUES, own);
        const parts = new Float64Array(this.memory.buffer, sums, 2 * C * this.threads);
        for (let c = 0; c < C; c++) {
          let [s, ss] = [0, 0];
          for (let t = 0; t < this.threads; t++) [s, ss] = [s + parts[t * 2 * C + c], ss + parts[t * 2 * C + C + c]];
          mean[b * C + c] = s / T;
          variance[b * C + c] = Math.max(0, ss / T - (s / T) ** 2);
        }
      }
    } finally {
      this.backend.wasm._free(sums);
    }
    return { mean, variance };
  }

  /** GELU((x − mean)·scale + beta) over x [B, T, C], mean and scale [B, 1, C] (per row and channel), beta [C]. */
  normalizeGelu(x: tf.TensorInfo, mean: tf.TensorInfo, scale: tf.TensorInfo, beta: tf.TensorInfo): tf.TensorInfo {
    const [B, T, C] = x.shape;
    if (x.shape.length !== 3 || mean.shape.join() !== `${B},1,${C}` || scale.shape.join() !== mean.shape.join() || beta.shape.join() !== `${C}`) {
      throw new UsageError(`normalize: statistics ${JSON.stringify(mean.shape)} / ${JSON.stringify(scale.shape)} / ${JSON.stringify(beta.shape)} do not fit ${JSON.stringify(x.shape)}`);
    }
    const out = this.backend.makeOutput([B, T, C], 'float32');
    const args = [this.offset(x), this.offset(out), this.offset(mean), this.offset(scale), this.offset(beta), C, T] as const;
    const own = (lo: number, hi: number) => this.k.normalize_gelu_rows(...args, lo, hi);
    this.spread('normalizeGelu', args, B * T, 1, B * T * C >= PARALLEL_MIN_VALUES, own);
    return out;
  }

  /**
   * softmax(scale·Q_h·K_hᵀ + gate·pos + key)·V_h for every batch row and head, (row, head) pairs split over the
   * threads. q, k, v: [B, T, H]; pos [heads, T, T] with gate [B, heads, T]; key [B, T]. Returns [B, T, H].
   */
  attention(inputs: AttentionInputs, { heads, scale }: AttentionAttrs): tf.TensorInfo {
    const { q, k, v, pos, gate, key } = inputs;
    const [B, T, H] = q.shape;
    const fits = (t: tf.TensorInfo | undefined, shape: number[]) => !t || t.shape.join() === shape.join();
    if (!fits(k, q.shape) || !fits(v, q.shape) || !fits(pos, [heads, T, T]) || !fits(gate, [B, heads, T]) || !fits(key, [B, T]) || !!pos !== !!gate || H % heads) {
      throw new UsageError(`attention: inputs of shapes ${JSON.stringify(Object.entries(inputs).map(([n, t]) => [n, t?.shape]))} do not fit ${heads} heads`);
    }
    const out = this.backend.makeOutput([B, T, H], 'float32');
    const scratchBytes = this.k.attention_scratch_bytes(T, H / heads);
    const scratch = this.malloc(this.threads * scratchBytes);
    try {
      const at = (t?: tf.TensorInfo) => (t ? this.offset(t) : 0);
      const args = [at(q), at(k), at(v), this.offset(out), at(pos), at(gate), at(key), T, H, heads, scale] as const;
      const own = (lo: number, hi: number) => this.k.attention_heads(...args, lo, hi, scratch + (this.threads - 1) * scratchBytes);
      this.spread('attention', [...args, scratch, scratchBytes], B * heads, 1, true, own, [10]);
    } finally {
      this.backend.wasm._free(scratch);
    }
    return out;
  }
}

const sizeOf = (t: tf.TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

export interface AttentionInputs {
  q: tf.TensorInfo;
  k: tf.TensorInfo;
  v: tf.TensorInfo;
  pos?: tf.TensorInfo;
  gate?: tf.TensorInfo;
  key?: tf.TensorInfo;
}

export interface AttentionAttrs {
  heads: number;
  scale: number;
}

/** Layer norm over the last axis (+ GELU), in one pass per row. */
export interface LayerNormAttrs {
  eps: number;
  gelu: boolean;
}

export interface ConvAttrs {
  kernel: number;
  stride: number;
  gelu?: boolean;
}

export interface GroupedConvAttrs {
  groups: number;
  taps: number;
  /** Output frames (≤ T − taps + 1): fewer drops the last ones, as HF's SamePad does for an even kernel. */
  rows: number;
  gelu?: boolean;
}

export interface GemmShape {
  batch: number;
  rows: number;
  rowStride: number;
  batchStride: number;
  /** GELU on the result, in the same pass. */
  gelu?: boolean;
  /** b is a weight from packWeight(). */
  packed?: boolean;
}

const installed = new WeakMap<WasmModule, Kernels>();
let registered = false;

/** Loads the kernels onto the current wasm backend (idempotent). Called by useBackend. */
export function installKernels(threads: number): Kernels | undefined {
  if (process.env.WAVPROBE_KERNELS === 'tfjs') return undefined;
  const backend = tf.backend() as unknown as WasmBackend;
  const existing = installed.get(backend.wasm);
  if (existing) return existing;
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  let kernels: Kernels;
  try {
    if (!memory) return undefined;
    kernels = new Kernels(backend, memory, threads);
  } catch {
    return undefined; // a runtime without wasm SIMD128 (or without shared memory where the build needs it): tfjs ops
  }
  installed.set(backend.wasm, kernels);
  if (!registered) {
    const of = (b: unknown) => installed.get((b as WasmBackend).wasm)!;
    tf.registerKernel({
      kernelName: 'WavprobeGemm',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b, attrs }) => of(b).gemm(inputs.a!, inputs.b!, inputs.bias, attrs as unknown as GemmShape),
    });
    tf.registerKernel({
      kernelName: 'WavprobeConv',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b, attrs }) => of(b).conv(inputs.x!, inputs.filter!, inputs.bias, attrs as unknown as ConvAttrs),
    });
    tf.registerKernel({
      kernelName: 'WavprobeGroupedConv',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b, attrs }) => of(b).groupedConv(inputs.x!, inputs.filter!, inputs.bias, attrs as unknown as GroupedConvAttrs),
    });
    tf.registerKernel({ kernelName: 'WavprobePack', backendName: 'wasm', kernelFunc: ({ inputs, backend: b }) => of(b).packWeight(inputs.b!) });
    tf.registerKernel({ kernelName: 'WavprobeGelu', backendName: 'wasm', kernelFunc: ({ inputs, backend: b }) => of(b).gelu(inputs.x!) });
    tf.registerKernel({
      kernelName: 'WavprobeAttention',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b, attrs }) => of(b).attention(inputs as unknown as AttentionInputs, attrs as unknown as AttentionAttrs),
    });
    tf.registerKernel({
      kernelName: 'WavprobeNormalizeGelu',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b }) => of(b).normalizeGelu(inputs.x!, inputs.mean!, inputs.scale!, inputs.beta!),
    });
    tf.registerKernel({
      kernelName: 'WavprobeLayerNorm',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b, attrs }) => of(b).layerNorm(inputs.x!, inputs.gamma!, inputs.beta!, attrs as unknown as LayerNormAttrs),
    });
    registered = true;
  }
  return kernels;
}

/** The kernels of the active backend, or undefined where lib/nn must use plain tfjs ops. */
export function kernels(): Kernels | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return installed.get((tf.backend() as unknown as WasmBackend).wasm);
}

/** Which kernels the dense layers, convolutions and GELU use on the active backend, for benchmark reports. */
export function kernelsInUse(): string {
  const k = kernels();
  return k ? `wavprobe-${k.variant}` : 'tfjs';
}

/** A registered kernel run through the engine (so tidy tracks its output). */
export function runKernel<T extends tf.Tensor>(name: 'WavprobeGemm' | 'WavprobePack' | 'WavprobeConv' | 'WavprobeGroupedConv' | 'WavprobeGelu' | 'WavprobeLayerNorm' | 'WavprobeNormalizeGelu' | 'WavprobeAttention', inputs: Record<string, tf.Tensor>, attrs: object = {}): T {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as T;
}
