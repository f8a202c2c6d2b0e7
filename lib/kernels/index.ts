/**
 * wavprobe's own wasm SIMD kernels (kernels.c: GEMM on weights packed at load, in panels or as one level of
 * Strassen's blocks, or per call; 1-D convolution as a GEMM over overlapping rows, the kernel-3 stride-2 conv with
 * shared products, the grouped conv, GELU, layer norm with an optional fused GELU, a per-channel normalisation
 * fused with GELU, the multi-head attention core) run
 * in place on tfjs-wasm's heap: the module imports the backend's own memory, reads its tensors where they lie and
 * writes into outputs the backend allocates, so nothing is copied. They are registered as tfjs kernels (Wavprobe*)
 * on the wasm backend, so tidy() and dispose() treat their outputs like any other.
 *
 * Why: tfjs-wasm's XNNPACK GEMM runs at ~25 GFLOP/s per core here, these at ~45 (relaxed-SIMD FMA); its exact
 * GELU is 5 passes around a scalar erf (~14 ns per value), this one is one SIMD pass (~1 ns). With the
 * threaded build (--threads N) the memory is shared and N − 1 worker threads (pool.ts) take slices of each job.
 *
 * lib/nn calls kernels() and falls back to plain tfjs ops when it answers undefined (other backends, or
 * WAVPROBE_KERNELS=tfjs to compare). WAVPROBE_KERNELS=plain loads the build without relaxed SIMD (what a runtime
 * without it gets: multiply then add, 4-row tiles) where relaxed SIMD would be taken.
 */
import * as v8 from 'v8';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { KERNEL_BINARIES } from './binaries';
import { PoolJob, Region, WorkerPool } from './pool';

/** How an argument of a kernels.c export is passed: a byte offset in the backend's memory (0: none), an int, a float, or a flag (0/1). */
type ArgKind = 'ptr' | 'int' | 'float' | 'flag';

interface ExportSpec {
  /** kernels.c's arguments, in its order. */
  readonly args: Readonly<Record<string, ArgKind>>;
  /**
   * A kernel: what its range counts. The export takes its slice [lo, hi) of the range after its arguments, and
   * the threads split [0, total) in multiples of `align` (default 1). Exports without one are size queries.
   */
  readonly slice?: string;
  readonly align?: number;
  /** After [lo, hi): a pointer to the calling thread's own region (its scratch, or its partial sums). */
  readonly perThread?: 'scratch' | 'sums';
  /**
   * [weight, packed]: the kernel packs `weight` into `packed` (panels it computes), unless the call says
   * `prepacked` (a weight packed at load, or by an earlier batch row): then it reads `packed` as it is.
   */
  readonly prepacked?: readonly [string, string];
}

/**
 * kernels.c's exports, each described once: the types of the calls, their marshalling into wasm arguments and
 * the workers' dispatch (pool.ts) are all derived from this table.
 */
export const KERNEL_EXPORTS = {
  gemm_packed_bytes: { args: { K: 'int', N: 'int' } },
  gemm_scratch_bytes: { args: {} },
  strassen_scratch_bytes: { args: {} },
  strassen_tiles: { args: { M: 'int' } },
  conv3s2_scratch_bytes: { args: { Cin: 'int' } },
  conv3s2_packed_bytes: { args: { Cin: 'int', Cout: 'int', Tout: 'int' } },
  conv3s2_slices: { args: { Cin: 'int', Cout: 'int', Tout: 'int' } },
  conv3s2_strassen: { args: { Cin: 'int', Cout: 'int', Tout: 'int' } },
  attention_scratch_bytes: { args: { T: 'int', d: 'int' } },
  fft_conv_scratch_bytes: { args: { N: 'int' } },
  gemm_cols: {
    args: { A: 'ptr', lda: 'int', B: 'ptr', Bp: 'ptr', bias: 'ptr', C: 'ptr', M: 'int', K: 'int', N: 'int', gelu: 'flag' },
    prepacked: ['B', 'Bp'],
    slice: 'panels of 8 output columns',
    perThread: 'scratch',
  },
  pack_cols: { args: { B: 'ptr', Bp: 'ptr', K: 'int', N: 'int' }, slice: 'panels of 8 columns' },
  pack_half_cols: { args: { H: 'ptr', Bp: 'ptr', K: 'int', N: 'int' }, slice: 'panels of 8 columns' },
  widen_half_values: { args: { H: 'ptr', out: 'ptr' }, slice: 'values', align: 8 },
  gemm_strassen_cols: {
    args: { A: 'ptr', lda: 'int', Bs: 'ptr', bias: 'ptr', C: 'ptr', M: 'int', K: 'int', N: 'int', gelu: 'flag' },
    slice: 'row tiles of the quadrants (strassen_tiles)',
    perThread: 'scratch',
  },
  conv3s2_pack_cols: { args: { W: 'ptr', Bp: 'ptr', Cin: 'int', Cout: 'int' }, slice: 'panels of 8 columns of each half' },
  strassen_pack_cols: { args: { B: 'ptr', Bs: 'ptr', K: 'int', N: 'int' }, slice: 'panels of 8 columns of each half' },
  strassen_pack_half_cols: { args: { H: 'ptr', Bs: 'ptr', K: 'int', N: 'int' }, slice: 'panels of 8 columns of each half' },
  conv3s2_cols: {
    args: { x: 'ptr', Cin: 'int', W: 'ptr', Bp: 'ptr', bias: 'ptr', y: 'ptr', Tout: 'int', Cout: 'int', gelu: 'flag' },
    prepacked: ['W', 'Bp'],
    slice: 'panels of 8 output channels, or blocks of frame pairs (conv3s2_slices)',
    perThread: 'scratch',
  },
  grouped_conv_cols: {
    args: { x: 'ptr', Cin: 'int', groups: 'int', taps: 'int', W: 'ptr', Bp: 'ptr', bias: 'ptr', y: 'ptr', Tout: 'int', Cout: 'int', gelu: 'flag' },
    prepacked: ['W', 'Bp'],
    slice: 'groups',
    perThread: 'scratch',
  },
  fft_conv_weights: {
    args: { W: 'ptr', taps: 'int', Cg: 'int', Cout: 'int', N: 'int', tw: 'ptr', S: 'ptr' },
    slice: '(input channel, 4 outputs) pairs',
    perThread: 'scratch',
  },
  fft_conv_forward: {
    args: { x: 'ptr', T: 'int', C: 'int', pad: 'int', L: 'int', blocks: 'int', first: 'int', N: 'int', tw: 'ptr', Xre: 'ptr', Xim: 'ptr' },
    slice: '(block, 16 channels) units',
    perThread: 'scratch',
  },
  fft_conv_product: {
    args: { Xre: 'ptr', Xim: 'ptr', S: 'ptr', Yre: 'ptr', Yim: 'ptr', C: 'int', Cg: 'int', N: 'int', count: 'int' },
    slice: 'bins',
  },
  fft_conv_inverse: {
    args: {
      Yre: 'ptr',
      Yim: 'ptr',
      bias: 'ptr',
      y: 'ptr',
      frames: 'int',
      C: 'int',
      L: 'int',
      blocks: 'int',
      first: 'int',
      N: 'int',
      tw: 'ptr',
      gelu: 'flag',
    },
    slice: '(block, 16 channels) units',
    perThread: 'scratch',
  },
  gelu_range: { args: { x: 'ptr', y: 'ptr' }, slice: 'values', align: 4 }, // whole SIMD vectors per thread
  layer_norm_rows: { args: { x: 'ptr', y: 'ptr', gamma: 'ptr', beta: 'ptr', C: 'int', eps: 'float', gelu: 'flag' }, slice: 'rows' },
  normalize_gelu_rows: { args: { x: 'ptr', y: 'ptr', mean: 'ptr', scale: 'ptr', beta: 'ptr', C: 'int', T: 'int' }, slice: 'rows' },
  column_sums: { args: { x: 'ptr', C: 'int' }, slice: 'rows', perThread: 'sums' },
  attention_heads: {
    args: { q: 'ptr', k: 'ptr', v: 'ptr', out: 'ptr', pos: 'ptr', gate: 'ptr', key: 'ptr', T: 'int', H: 'int', heads: 'int', scale: 'float' },
    slice: '(batch row, head) pairs',
    perThread: 'scratch',
  },
} as const satisfies Record<string, ExportSpec>;

type Exports = typeof KERNEL_EXPORTS;
type ExportName = keyof Exports;
/** The exports that compute (the others are queries: sizes, slice counts, which route a kernel takes). */
export type KernelName = { [N in ExportName]: Exports[N] extends { slice: string } ? N : never }[ExportName];
type Query = Exclude<ExportName, KernelName>;
/** Kernels that pack a weight unless told it is prepacked. */
type PackingKernel = { [N in KernelName]: Exports[N] extends { prepacked: unknown } ? N : never }[KernelName];
/** A call's arguments by name: numbers, booleans for flags, and `prepacked` where the kernel packs a weight. */
export type KernelArgs<N extends ExportName> = {
  -readonly [A in keyof Exports[N]['args']]: Exports[N]['args'][A] extends 'flag' ? boolean : number;
} & (N extends PackingKernel ? { prepacked: boolean } : unknown);

/** The jobs the worker pool runs: every kernel, its float arguments and per-thread region known from KERNEL_EXPORTS. */
export const POOL_JOBS: PoolJob[] = Object.entries(KERNEL_EXPORTS as Record<string, ExportSpec>)
  .filter(([, spec]) => spec.slice)
  .map(([name, spec]) => ({ name, floats: Object.values(spec.args).map((kind) => kind === 'float'), perThread: !!spec.perThread }));

/**
 * A call's wasm arguments in kernels.c's order, flags as 0/1. kernels.c knows a prepacked weight by its two
 * pointers being equal (it packs unless they are): with `prepacked`, the packed pointer goes in the weight's
 * place too. That convention stays here.
 */
function marshal<N extends ExportName>(name: N, args: KernelArgs<N>): number[] {
  const spec: ExportSpec = KERNEL_EXPORTS[name];
  const values = args as Record<string, number | boolean>;
  return Object.keys(spec.args).map((arg) => {
    const value = values.prepacked && spec.prepacked?.[0] === arg ? values[spec.prepacked[1]] : values[arg];
    return typeof value === 'boolean' ? Number(value) : value;
  });
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
const CONV3S2_MAX_K = 2048;
/** Below this many multiply-adds a job is not worth waking the workers for (~20 µs per round trip). */
const PARALLEL_MIN_FLOP = 4e6;
const PARALLEL_MIN_VALUES = 1 << 16;
/** kernels.c's fft_conv_*: channels per transform unit. */
const FFT_CHANNELS = 16;
/** The FFT route's spectra per call, at most (whatever the length: 10 s of wav2vec2-base takes 10 MB in one run). */
const FFT_WORK_BYTES = 48 * 2 ** 20;

/** The FFT route's block length for a filter of `taps` taps: the power of 2 from 2·taps (L = N − taps + 1 outputs a block). */
export const fftPoints = (taps: number): number => 2 ** Math.ceil(Math.log2(2 * taps));

export class Kernels {
  readonly variant: 'relaxed' | 'plain';
  private readonly exports: Record<ExportName, (...args: number[]) => number>;
  private readonly pool?: WorkerPool;
  /** The FFT route's twiddles by N, on this heap for the backend's lifetime (4·N bytes each). */
  private readonly twiddleTables = new Map<number, number>();

  constructor(
    private readonly backend: WasmBackend,
    private readonly memory: WebAssembly.Memory,
    threads: number,
  ) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const mem = shared ? 'shared' : 'local';
    const relaxed = Buffer.from(KERNEL_BINARIES[`relaxed-${mem}`], 'base64');
    if (!WebAssembly.validate(relaxed)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20; shipped in later V8s
    this.variant = WebAssembly.validate(relaxed) && process.env.WAVPROBE_KERNELS !== 'plain' ? 'relaxed' : 'plain';
    const module = new WebAssembly.Module(this.variant === 'relaxed' ? relaxed : Buffer.from(KERNEL_BINARIES[`plain-${mem}`], 'base64'));
    this.exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernels['exports'];
    if (shared && threads > 1) this.pool = WorkerPool.start(module, memory, backend.wasm, threads - 1, POOL_JOBS);
  }

  /** This thread and the pool's workers, while the pool runs (it stops for good if a worker dies or hangs). */
  get threads(): number {
    return 1 + (this.pool?.running ? this.pool.size : 0);
  }

  /**
   * Runs kernel `name` over [0, total) of its range: on this thread, or split with the workers when there are
   * some and the job is `worth` a round trip (~20 µs). A perThread kernel needs `region`: each thread's is
   * region.base + its index · region.bytes, this thread's the last.
   */
  private run<N extends KernelName>(name: N, args: KernelArgs<N>, total: number, worth: boolean, region?: Region): void {
    const spec: ExportSpec = KERNEL_EXPORTS[name];
    if (!spec.perThread !== !region) throw new Error(`${name} takes ${spec.perThread ? 'a' : 'no'} per-thread region`);
    const values = marshal(name, args);
    const fn = this.exports[name];
    const ownRegion = region && region.base + (this.threads - 1) * region.bytes;
    const own = (lo: number, hi: number) => (ownRegion === undefined ? fn(...values, lo, hi) : fn(...values, lo, hi, ownRegion));
    if (this.pool?.running && worth) this.pool.run(name, values, total, spec.align ?? 1, own, region);
    else own(0, total);
  }

  private query<N extends Query>(name: N, args: KernelArgs<N>): number {
    return this.exports[name](...marshal(name, args));
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
   * and has K = B.shape[0] values (rows may overlap: a convolution) — with g.strassen, b is packStrassen()'s [7, K/2,
   * N/2]; GELU applied in the same pass when g.gelu.
   * Returns [batch, rows, N].
   */
  gemm(a: tf.TensorInfo, b: tf.TensorInfo, bias: tf.TensorInfo | undefined, g: GemmShape): tf.TensorInfo {
    if (g.strassen) return this.gemmStrassen(a, b, bias, g);
    const [K, N] = b.shape;
    const { batch, rows, rowStride, batchStride, gelu = false, packed = false } = g;
    checkGemm(a, b.shape.length === 2 && !(packed && N % NR), `${JSON.stringify(b.shape)}${packed ? ' (packed)' : ''}`, bias, K, N, g);
    const out = this.backend.makeOutput([batch, rows, N], 'float32');
    const [A, B, C] = [this.offset(a), this.offset(b), this.offset(out)];
    const biasAt = bias ? this.offset(bias) : 0;
    const work = { packed: packed ? 0 : this.query('gemm_packed_bytes', { K, N }), scratch: this.query('gemm_scratch_bytes', {}) };
    const worth = 2 * rows * K * N >= PARALLEL_MIN_FLOP && N > NR;
    // A weight packed at load is read as it is; otherwise the first batch row packs it and later rows read that.
    this.perBatchRow('gemm_cols', work, batch, Math.ceil(N / NR), worth, undefined, (i, Bp) => ({
      A: A + 4 * i * batchStride,
      lda: rowStride,
      B,
      Bp: packed ? B : Bp,
      prepacked: packed || i > 0,
      bias: biasAt,
      C: C + 4 * i * rows * N,
      M: rows,
      K,
      N,
      gelu,
    }));
    return out;
  }

  /** gemm() on a weight from packStrassen(): one level of Strassen (kernels.c gemm_strassen_cols), rows lda apart. */
  private gemmStrassen(a: tf.TensorInfo, b: tf.TensorInfo, bias: tf.TensorInfo | undefined, g: GemmShape): tf.TensorInfo {
    const [blocks, K2, N2] = b.shape;
    const [K, N] = [2 * K2, 2 * N2];
    const { batch, rows, rowStride, batchStride, gelu = false } = g;
    checkGemm(a, b.shape.length === 3 && blocks === 7 && N2 % NR === 0, `${JSON.stringify(b.shape)} (Strassen blocks)`, bias, K, N, g);
    const out = this.backend.makeOutput([batch, rows, N], 'float32');
    const [A, Bs, C] = [this.offset(a), this.offset(b), this.offset(out)];
    const biasAt = bias ? this.offset(bias) : 0;
    const scratchBytes = this.query('strassen_scratch_bytes', {});
    const scratch = { base: this.malloc(this.threads * scratchBytes), bytes: scratchBytes };
    try {
      for (let i = 0; i < batch; i++) {
        const args = { A: A + 4 * i * batchStride, lda: rowStride, Bs, bias: biasAt, C: C + 4 * i * rows * N, M: rows, K, N, gelu };
        this.run('gemm_strassen_cols', args, this.query('strassen_tiles', { M: rows }), 2 * rows * K * N >= PARALLEL_MIN_FLOP, scratch);
      }
    } finally {
      this.backend.wasm._free(scratch.base);
    }
    return out;
  }

  /**
   * Runs a weight-packing kernel once per batch row, its range [0, total) split over the threads when `worth` it.
   * One allocation holds the packed weight (work.packed bytes: the first row packs it, later rows read it
   * prepacked; or `pack` packs it before the first row) and each thread's scratch (work.scratch bytes). args(i,
   * packed): row i's arguments.
   */
  private perBatchRow<N extends PackingKernel>(
    name: N,
    work: { packed: number; scratch: number },
    batch: number,
    total: number,
    worth: boolean,
    pack: ((packed: number) => void) | undefined,
    args: (i: number, packed: number) => KernelArgs<N>,
  ): void {
    const packed = this.malloc(work.packed + this.threads * work.scratch);
    const scratch = { base: packed + work.packed, bytes: work.scratch };
    try {
      pack?.(packed);
      for (let i = 0; i < batch; i++) this.run(name, args(i, packed), total, worth, scratch);
    } finally {
      this.backend.wasm._free(packed);
    }
  }

  /**
   * A weight b [K, N] (N a multiple of 8) in the layout gemm() reads with `packed`: 8-column panels, k-major. Same
   * shape and size; only gemm() may read it. b may be IEEE halves, the int32 tensor [K, N / 2] over their bytes
   * (halvesTensor): widened exactly in the same pass.
   */
  packWeight(b: tf.TensorInfo): tf.TensorInfo {
    const [K, N] = weightShape(b);
    if (b.shape.length !== 2 || N % NR)
      throw new UsageError(`pack: weight ${JSON.stringify(b.shape)} (${b.dtype}) is not [K, N] with N a multiple of ${NR}`);
    const out = this.backend.makeOutput([K, N], 'float32');
    const [at, Bp, worth] = [this.offset(b), this.offset(out), K * N >= PARALLEL_MIN_VALUES];
    if (b.dtype === 'int32') this.run('pack_half_cols', { H: at, Bp, K, N }, N / NR, worth);
    else this.run('pack_cols', { B: at, Bp, K, N }, N / NR, worth);
    return out;
  }

  /**
   * A weight b [K, N] (K even, N a multiple of 16) as the 7 blocks [7, K/2, N/2] of one level of Strassen, each
   * in 8-column panels (kernels.c strassen_pack_cols): 7/4 of its size; only gemm() with `strassen` may read it.
   * b may be halves, as packWeight() takes them.
   */
  packStrassen(b: tf.TensorInfo): tf.TensorInfo {
    const [K, N] = weightShape(b);
    if (b.shape.length !== 2 || K % 2 || N % (2 * NR))
      throw new UsageError(`pack: weight ${JSON.stringify(b.shape)} (${b.dtype}) is not [K, N] with K even and N a multiple of ${2 * NR}`);
    const out = this.backend.makeOutput([7, K / 2, N / 2], 'float32');
    const [at, Bs, worth] = [this.offset(b), this.offset(out), K * N >= PARALLEL_MIN_VALUES];
    if (b.dtype === 'int32') this.run('strassen_pack_half_cols', { H: at, Bs, K, N }, N / 2 / NR, worth);
    else this.run('strassen_pack_cols', { B: at, Bs, K, N }, N / 2 / NR, worth);
    return out;
  }

  /** IEEE halves, as halvesTensor() passes them, → float32 of `shape`, widened exactly in one pass. */
  widenHalves(h: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    const n = shape.reduce((a, b) => a * b, 1);
    if (h.dtype !== 'int32' || sizeOf(h) !== Math.ceil(n / 2)) {
      throw new UsageError(`widen: halves ${JSON.stringify(h.shape)} (${h.dtype}) do not hold the ${n} values of ${JSON.stringify(shape)}`);
    }
    const out = this.backend.makeOutput(shape, 'float32');
    this.run('widen_half_values', { H: this.offset(h), out: this.offset(out) }, n, n >= PARALLEL_MIN_VALUES);
    return out;
  }

  /**
   * 1-D convolution without padding: x [B, T, Cin], filter [kernel·Cin, Cout] → [B, floor((T − kernel)/stride) + 1,
   * Cout] (+ bias, then GELU when g.gelu). Kernel 3, stride 2 (the conv encoder's middle layers) takes the
   * shared-product route (kernels.c's conv3s2_cols, 5/6 of the multiply-adds; from 64 frames with Strassen on its
   * two long products, 3/4); any other shape is the GEMM over overlapping rows.
   */
  conv(x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | undefined, { kernel, stride, gelu = false }: ConvAttrs): tf.TensorInfo {
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
    const shape = { Cin, Cout, Tout: rows };
    const work = { packed: this.query('conv3s2_packed_bytes', shape), scratch: this.query('conv3s2_scratch_bytes', { Cin }) };
    const slices = this.query('conv3s2_slices', shape); // 8-column panels, or blocks of frame pairs (Strassen)
    const worth = 5 * rows * Cin * Cout >= PARALLEL_MIN_FLOP && slices > 1;
    // Strassen's route packs its filter first, as a job of its own: each thread then reads all of it.
    const strassen = this.query('conv3s2_strassen', shape) === 1;
    const pack = (Bp: number) => this.run('conv3s2_pack_cols', { W, Bp, Cin, Cout }, Cout / 2 / NR, worth);
    this.perBatchRow('conv3s2_cols', work, B, slices, worth, strassen ? pack : undefined, (i, Bp) => ({
      x: X + 4 * i * T * Cin,
      Cin,
      W,
      Bp,
      prepacked: strassen || i > 0,
      bias: biasAt,
      y: Y + 4 * i * rows * Cout,
      Tout: rows,
      Cout,
      gelu,
    }));
    return out;
  }

  /**
   * Grouped stride-1 convolution of an already padded x [B, T, Cin] with filter [taps·Cin/groups, Cout] (tfjs's
   * [taps, Cin/groups, Cout] flattened) → [B, rows, Cout] (+ bias, then GELU when g.gelu), rows ≤ T − taps + 1.
   * Each group is a GEMM that reads its channels in place and writes its columns of the output: no split, no
   * concat. Groups are split over the threads.
   */
  groupedConv(
    x: tf.TensorInfo,
    filter: tf.TensorInfo,
    bias: tf.TensorInfo | undefined,
    { groups, taps, rows, gelu = false }: GroupedConvAttrs,
  ): tf.TensorInfo {
    const [B, T, Cin] = x.shape;
    const [K, Cout] = filter.shape;
    if (
      x.shape.length !== 3 ||
      Cin % groups ||
      Cout % groups ||
      K !== (taps * Cin) / groups ||
      rows < 1 ||
      rows > T - taps + 1 ||
      (bias && bias.shape.join() !== `${Cout}`)
    ) {
      throw new UsageError(
        `grouped conv: input ${JSON.stringify(x.shape)}, filter ${JSON.stringify(filter.shape)} and bias ${JSON.stringify(bias?.shape)} do not fit ${groups} groups of ${taps} taps and ${rows} frames`,
      );
    }
    const out = this.backend.makeOutput([B, rows, Cout], 'float32');
    const [X, W, Y] = [this.offset(x), this.offset(filter), this.offset(out)];
    const biasAt = bias ? this.offset(bias) : 0;
    const work = { packed: groups * this.query('gemm_packed_bytes', { K, N: Cout / groups }), scratch: this.query('gemm_scratch_bytes', {}) };
    const worth = 2 * rows * K * Cout >= PARALLEL_MIN_FLOP && groups > 1;
    this.perBatchRow('grouped_conv_cols', work, B, groups, worth, undefined, (i, Bp) => ({
      x: X + 4 * i * T * Cin,
      Cin,
      groups,
      taps,
      W,
      Bp,
      prepacked: i > 0,
      bias: biasAt,
      y: Y + 4 * i * rows * Cout,
      Tout: rows,
      Cout,
      gelu,
    }));
    return out;
  }

  /**
   * A square grouped conv's filter [taps, Cg, Cout] (Cout = groups·Cg, Cg a multiple of 4: the positional conv) as
   * the spectra fftConv() reads, [N/2 + 1, 2, Cg, Cout] with N = fftPoints(taps) (kernels.c fft_conv_weights).
   */
  convSpectrum(filter: tf.TensorInfo): tf.TensorInfo {
    const [taps, Cg, Cout] = filter.shape;
    if (filter.shape.length !== 3 || Cg % 4 || Cout % Cg) {
      throw new UsageError(`fft conv: filter ${JSON.stringify(filter.shape)} is not [taps, Cg, groups·Cg] with Cg a multiple of 4`);
    }
    const N = fftPoints(taps);
    const out = this.backend.makeOutput([N / 2 + 1, 2, Cg, Cout], 'float32');
    const scratch = { base: this.malloc(this.threads * 32 * N), bytes: 32 * N }; // 8·N floats a thread
    try {
      const args = { W: this.offset(filter), taps, Cg, Cout, N, tw: this.twiddles(N), S: this.offset(out) };
      this.run('fft_conv_weights', args, (Cg * Cout) / 4, taps * Cg * Cout >= PARALLEL_MIN_VALUES, scratch);
    } finally {
      this.backend.wasm._free(scratch.base);
    }
    return out;
  }

  /**
   * The grouped conv of convSpectrum()'s filter through the FFT (kernels.c fft_conv_*): x [B, T, C] with `pad` zeros
   * at both ends of time → [B, frames, C] (+ bias, then GELU when gelu), frames ≤ T + 2·pad − taps + 1.
   */
  fftConv(
    x: tf.TensorInfo,
    spectrum: tf.TensorInfo,
    bias: tf.TensorInfo | undefined,
    { taps, pad, frames, gelu = false, workBytes = FFT_WORK_BYTES }: FftConvAttrs,
  ): tf.TensorInfo {
    const [B, T, C] = x.shape;
    const [bins, parts, Cg, Cout] = spectrum.shape;
    const N = 2 * (bins - 1);
    if (
      x.shape.length !== 3 ||
      spectrum.shape.length !== 4 ||
      parts !== 2 ||
      C !== Cout ||
      N !== fftPoints(taps) ||
      frames < 1 ||
      frames > T + 2 * pad - taps + 1 ||
      (bias && bias.shape.join() !== `${C}`)
    ) {
      throw new UsageError(
        `fft conv: input ${JSON.stringify(x.shape)}, spectra ${JSON.stringify(spectrum.shape)} and bias ${JSON.stringify(bias?.shape)} do not fit ${taps} taps, padding ${pad} and ${frames} frames`,
      );
    }
    const L = N - taps + 1;
    const blocks = Math.ceil(frames / L);
    const out = this.backend.makeOutput([B, frames, C], 'float32');
    const all = B * blocks;
    // Blocks go through in runs of at most workBytes of spectra (Xre, Xim [run, N/2 + 1, C]; Yre, Yim [run, N, C]).
    const perBlock = 4 * (2 * (N / 2 + 1) + 2 * N) * C;
    const run = Math.max(1, Math.min(all, Math.floor(workBytes / perBlock)));
    const [spectra, part] = [4 * run * (N / 2 + 1) * C, 4 * run * N * C];
    const scratchBytes = this.query('fft_conv_scratch_bytes', { N });
    const work = this.malloc(run * perBlock + this.threads * scratchBytes);
    try {
      const [Xre, Xim, Yre, Yim] = [work, work + spectra, work + 2 * spectra, work + 2 * spectra + part];
      const scratch = { base: Yim + part, bytes: scratchBytes };
      const [X, tw, S, y, biasAt] = [this.offset(x), this.twiddles(N), this.offset(spectrum), this.offset(out), bias ? this.offset(bias) : 0];
      for (let first = 0; first < all; first += run) {
        const count = Math.min(run, all - first);
        const [units, worth] = [count * Math.ceil(C / FFT_CHANNELS), count * N * C >= PARALLEL_MIN_VALUES];
        this.run('fft_conv_forward', { x: X, T, C, pad, L, blocks, first, N, tw, Xre, Xim }, units, worth, scratch);
        this.run('fft_conv_product', { Xre, Xim, S, Yre, Yim, C, Cg, N, count }, N / 2 + 1, worth);
        this.run('fft_conv_inverse', { Yre, Yim, bias: biasAt, y, frames, C, L, blocks, first, N, tw, gelu }, units, worth, scratch);
      }
    } finally {
      this.backend.wasm._free(work);
    }
    return out;
  }

  /** cos then sin of 2πj/N, j < N/2, for the FFT route: made once per N, kept on the heap. */
  private twiddles(N: number): number {
    let at = this.twiddleTables.get(N);
    if (at === undefined) {
      at = this.malloc(4 * N);
      const tw = new Float32Array(this.memory.buffer, at, N);
      for (let j = 0; j < N / 2; j++) [tw[j], tw[N / 2 + j]] = [Math.cos((2 * Math.PI * j) / N), Math.sin((2 * Math.PI * j) / N)];
      this.twiddleTables.set(N, at);
    }
    return at;
  }

  gelu(x: tf.TensorInfo): tf.TensorInfo {
    const n = sizeOf(x);
    const out = this.backend.makeOutput([...x.shape], 'float32');
    this.run('gelu_range', { x: this.offset(x), y: this.offset(out) }, n, n >= PARALLEL_MIN_VALUES);
    return out;
  }

  layerNorm(x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo, { eps, gelu }: LayerNormAttrs): tf.TensorInfo {
    const C = x.shape[x.shape.length - 1];
    if (gamma.shape.join() !== `${C}` || beta.shape.join() !== `${C}`) {
      throw new UsageError(`layer norm: gamma ${JSON.stringify(gamma.shape)} / beta ${JSON.stringify(beta.shape)} do not match ${C} channels`);
    }
    const rows = sizeOf(x) / C;
    const out = this.backend.makeOutput([...x.shape], 'float32');
    const args = { x: this.offset(x), y: this.offset(out), gamma: this.offset(gamma), beta: this.offset(beta), C, eps, gelu };
    this.run('layer_norm_rows', args, rows, rows * C >= PARALLEL_MIN_VALUES);
    return out;
  }

  /**
   * Per batch row and channel of x [B, T, C], the mean and population variance over time, from float64 sums
   * (rows split over the threads, each thread's partial sums added here in float64).
   */
  momentsOverTime(x: tf.TensorInfo): { mean: Float32Array; variance: Float32Array } {
    const [B, T, C] = x.shape;
    const sums = { base: this.malloc(this.threads * 16 * C), bytes: 16 * C }; // 2·C doubles per thread
    const mean = new Float32Array(B * C);
    const variance = new Float32Array(B * C);
    try {
      for (let b = 0; b < B; b++) {
        const parts = new Float64Array(this.memory.buffer, sums.base, 2 * C * this.threads);
        parts.fill(0); // a thread may get no rows
        this.run('column_sums', { x: this.offset(x) + 4 * b * T * C, C }, T, T * C >= PARALLEL_MIN_VALUES, sums);
        for (let c = 0; c < C; c++) {
          let [s, ss] = [0, 0];
          for (let t = 0; t < this.threads; t++) [s, ss] = [s + parts[t * 2 * C + c], ss + parts[t * 2 * C + C + c]];
          mean[b * C + c] = s / T;
          variance[b * C + c] = Math.max(0, ss / T - (s / T) ** 2);
        }
      }
    } finally {
      this.backend.wasm._free(sums.base);
    }
    return { mean, variance };
  }

  /** GELU((x − mean)·scale + beta) over x [B, T, C], mean and scale [B, 1, C] (per row and channel), beta [C]. */
  normalizeGelu(x: tf.TensorInfo, mean: tf.TensorInfo, scale: tf.TensorInfo, beta: tf.TensorInfo): tf.TensorInfo {
    const [B, T, C] = x.shape;
    if (x.shape.length !== 3 || mean.shape.join() !== `${B},1,${C}` || scale.shape.join() !== mean.shape.join() || beta.shape.join() !== `${C}`) {
      throw new UsageError(
        `normalize: statistics ${JSON.stringify(mean.shape)} / ${JSON.stringify(scale.shape)} / ${JSON.stringify(beta.shape)} do not fit ${JSON.stringify(x.shape)}`,
      );
    }
    const out = this.backend.makeOutput([B, T, C], 'float32');
    const args = { x: this.offset(x), y: this.offset(out), mean: this.offset(mean), scale: this.offset(scale), beta: this.offset(beta), C, T };
    this.run('normalize_gelu_rows', args, B * T, B * T * C >= PARALLEL_MIN_VALUES);
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
    if (
      !fits(k, q.shape) ||
      !fits(v, q.shape) ||
      !fits(pos, [heads, T, T]) ||
      !fits(gate, [B, heads, T]) ||
      !fits(key, [B, T]) ||
      !!pos !== !!gate ||
      H % heads
    ) {
      throw new UsageError(
        `attention: inputs of shapes ${JSON.stringify(Object.entries(inputs).map(([n, t]) => [n, t?.shape]))} do not fit ${heads} heads`,
      );
    }
    const out = this.backend.makeOutput([B, T, H], 'float32');
    const scratchBytes = this.query('attention_scratch_bytes', { T, d: H / heads });
    const scratch = { base: this.malloc(this.threads * scratchBytes), bytes: scratchBytes };
    try {
      const at = (t?: tf.TensorInfo) => (t ? this.offset(t) : 0);
      const args = { q: at(q), k: at(k), v: at(v), out: at(out), pos: at(pos), gate: at(gate), key: at(key), T, H, heads, scale };
      this.run('attention_heads', args, B * heads, true, scratch);
    } finally {
      this.backend.wasm._free(scratch.base);
    }
    return out;
  }
}

const sizeOf = (t: tf.TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

/** [K, N] of a weight to pack: float32 [K, N], or IEEE halves as the int32 tensor [K, N / 2] over their bytes. */
const weightShape = (b: tf.TensorInfo): number[] => (b.dtype === 'int32' ? [b.shape[0], 2 * b.shape[1]] : b.shape);

/** A GEMM's checks before it touches memory: the weight fits its layout, the bias is [N], A's rows lie inside a. */
function checkGemm(a: tf.TensorInfo, weightFits: boolean, weight: string, bias: tf.TensorInfo | undefined, K: number, N: number, g: GemmShape): void {
  if (!weightFits || (bias && (bias.shape.length !== 1 || bias.shape[0] !== N))) {
    throw new UsageError(`gemm: weight ${weight} and bias ${JSON.stringify(bias?.shape)} do not fit`);
  }
  const { batch, rows, rowStride, batchStride } = g;
  const aSize = sizeOf(a);
  if (rows < 1 || batch < 1 || (batch - 1) * batchStride + (rows - 1) * rowStride + K > aSize) {
    throw new UsageError(`gemm: ${batch}×${rows} rows of ${K} (stride ${rowStride}) overrun an input of ${aSize} values`);
  }
}

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

export interface FftConvAttrs {
  taps: number;
  /** Zeros before and after x in time (the kernel reads them as zeros; x is not padded). */
  pad: number;
  /** Output frames (≤ T + 2·pad − taps + 1). */
  frames: number;
  gelu?: boolean;
  /** Spectra held at once (default 48 MiB): the blocks go through in runs that fit. */
  workBytes?: number;
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
  /** b is a weight from packStrassen(). */
  strassen?: boolean;
}

/** The tfjs kernels lib/nn runs through the engine (runKernel), each a Kernels method on named inputs and attributes. */
const TFJS_KERNELS = {
  WavprobeGemm: (k, i, attrs) => k.gemm(i.a!, i.b!, i.bias, attrs as unknown as GemmShape),
  WavprobePack: (k, i) => k.packWeight(i.b!),
  WavprobePackStrassen: (k, i) => k.packStrassen(i.b!),
  WavprobeWidenHalves: (k, i, attrs) => k.widenHalves(i.h!, attrs.shape as number[]),
  WavprobeConv: (k, i, attrs) => k.conv(i.x!, i.filter!, i.bias, attrs as unknown as ConvAttrs),
  WavprobeGroupedConv: (k, i, attrs) => k.groupedConv(i.x!, i.filter!, i.bias, attrs as unknown as GroupedConvAttrs),
  WavprobeConvSpectrum: (k, i) => k.convSpectrum(i.filter!),
  WavprobeFftConv: (k, i, attrs) => k.fftConv(i.x!, i.spectrum!, i.bias, attrs as unknown as FftConvAttrs),
  WavprobeGelu: (k, i) => k.gelu(i.x!),
  WavprobeLayerNorm: (k, i, attrs) => k.layerNorm(i.x!, i.gamma!, i.beta!, attrs as unknown as LayerNormAttrs),
  WavprobeNormalizeGelu: (k, i) => k.normalizeGelu(i.x!, i.mean!, i.scale!, i.beta!),
  WavprobeAttention: (k, i, attrs) => k.attention(i as unknown as AttentionInputs, attrs as unknown as AttentionAttrs),
} satisfies Record<string, (k: Kernels, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => tf.TensorInfo>;

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
    for (const [kernelName, run] of Object.entries(TFJS_KERNELS)) {
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: ({ inputs, backend, attrs }) => run(of(backend), inputs, attrs ?? {}) });
    }
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

/** IEEE halves as the kernels take them: an int32 tensor [⌈n/2⌉] over their bytes (a zero half after an odd count). */
export function halvesTensor(half: Uint16Array): tf.Tensor1D {
  let even = half;
  if (half.length % 2 || half.byteOffset % 4) {
    even = new Uint16Array(half.length + (half.length % 2)); // an Int32Array view needs 4-byte alignment and whole pairs
    even.set(half);
  }
  return tf.tensor1d(new Int32Array(even.buffer, even.byteOffset, even.length / 2), 'int32');
}

/** IEEE halves → a float32 tensor of `shape`, widened exactly on the kernels; undefined where they are not in use. */
export function widenHalves(half: Uint16Array, shape: readonly number[]): tf.Tensor | undefined {
  if (!kernels()) return undefined;
  return tf.tidy(() => runKernel('WavprobeWidenHalves', { h: halvesTensor(half) }, { shape: [...shape] }));
}

/** A registered kernel run through the engine (so tidy tracks its output). */
export function runKernel<T extends tf.Tensor>(name: keyof typeof TFJS_KERNELS, inputs: Record<string, tf.Tensor>, attrs: object = {}): T {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as T;
}
