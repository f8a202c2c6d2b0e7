/**
 * Worker threads that run slices of a kernel job on the shared memory of tfjs-wasm's threaded build. The main
 * thread takes a slice too, then blocks until the workers are done: a job is synchronous, like every tfjs kernel.
 *
 * Control block (Int32 in the shared memory): [0] job sequence number, bumped per job (workers wait on it);
 * [1] workers done with the current job; [2] job kind; [3..13] arguments (a float one is read through a Float32
 * view of its slot); [14] workers ready; [15] first error;
 * [16 + 2w], [17 + 2w] worker w's slice [lo, hi).
 */
import { Worker } from 'worker_threads';
import type { KernelExports } from './index';

const CONTROL_INTS = 16 + 2 * 64;
const GEMM = 1;
const GELU = 2;
const LAYER_NORM = 3;

/** Runs in each worker (plain JS: it must load without the TypeScript toolchain). */
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { module, memory, control, index, workspace } = workerData;
const ctl = new Int32Array(memory.buffer, control, ${CONTROL_INTS});
const ctlF = new Float32Array(memory.buffer, control, ${CONTROL_INTS});
let k;
try {
  k = new WebAssembly.Instance(module, { env: { memory } }).exports;
} catch (e) {
  Atomics.store(ctl, 15, 1);
}
Atomics.add(ctl, 14, 1);
Atomics.notify(ctl, 14);
let seen = 0;
while (k) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  const lo = ctl[16 + 2 * index], hi = ctl[17 + 2 * index];
  try {
    if (lo < hi && ctl[2] === ${GEMM}) k.gemm_cols(ctl[3], ctl[4], ctl[5], ctl[6], ctl[7], ctl[8], ctl[9], ctl[10], ctl[11], ctl[12], ctl[13], lo, hi, workspace);
    else if (lo < hi && ctl[2] === ${GELU}) k.gelu_range(ctl[3], ctl[4], lo, hi);
    else if (lo < hi && ctl[2] === ${LAYER_NORM}) k.layer_norm_rows(ctl[3], ctl[4], ctl[5], ctl[6], ctl[7], ctlF[8], ctl[9], lo, hi);
  } catch (e) {
    Atomics.store(ctl, 15, 2);
  }
  Atomics.add(ctl, 1, 1);
  Atomics.notify(ctl, 1);
}
`;

type GemmArgs = readonly [A: number, lda: number, B: number, ldb: number, Bp: number, bias: number, C: number, ldc: number, M: number, K: number, N: number];

export class WorkerPool {
  private seq = 0;

  private constructor(
    private readonly ctl: Int32Array,
    readonly size: number,
  ) {}

  /**
   * Starts `size` workers on `memory` and waits (up to 10 s) until each has instantiated the module; undefined,
   * with the workers stopped, if one failed (the kernels then run on the main thread alone).
   */
  static start(module: WebAssembly.Module, memory: WebAssembly.Memory, heap: { _malloc(n: number): number }, size: number, workspaceBytes: number): WorkerPool | undefined {
    const control = heap._malloc(4 * CONTROL_INTS) >>> 0;
    const ctl = new Int32Array(memory.buffer, control, CONTROL_INTS);
    ctl.fill(0);
    const workers = Array.from({ length: size }, (_, index) => {
      const workspace = heap._malloc(workspaceBytes) >>> 0;
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control, index, workspace } });
      w.unref(); // idle workers never keep the process alive
      return w;
    });
    const deadline = Date.now() + 10_000;
    for (let ready; (ready = Atomics.load(ctl, 14)) < size && Date.now() < deadline; ) Atomics.wait(ctl, 14, ready, 100);
    if (Atomics.load(ctl, 14) < size || ctl[15] !== 0) {
      for (const w of workers) void w.terminate();
      return undefined;
    }
    return new WorkerPool(ctl, size);
  }

  /** C = A·B (+ bias) with the N panels split into contiguous slices, the last one for this thread. */
  gemm(args: GemmArgs, panels: number, k: KernelExports, workspace: number): void {
    const [lo, hi] = this.dispatch(GEMM, args, panels, 1);
    if (lo < hi) k.gemm_cols(...args, lo, hi, workspace);
    this.join();
  }

  gelu(src: number, dst: number, n: number, k: KernelExports): void {
    const [lo, hi] = this.dispatch(GELU, [src, dst], n, 4);
    if (lo < hi) k.gelu_range(src, dst, lo, hi);
    this.join();
  }

  /** Layer norm (+ GELU) of `rows` rows of C values, rows split over the threads. */
  layerNorm(args: readonly [x: number, y: number, gamma: number, beta: number, C: number], eps: number, gelu: number, rows: number, k: KernelExports): void {
    const [lo, hi] = this.dispatch(LAYER_NORM, [...args, 0, gelu], rows, 1, [8, eps]);
    if (lo < hi) k.layer_norm_rows(...args, eps, gelu, lo, hi);
    this.join();
  }

  /** Posts a job over [0, total) in slices aligned to `align`; returns this thread's slice. */
  private dispatch(kind: number, args: readonly number[], total: number, align: number, float?: [slot: number, value: number]): [number, number] {
    const ctl = this.ctl;
    const share = Math.ceil(total / (this.size + 1) / align) * align;
    for (let w = 0; w < this.size; w++) {
      ctl[16 + 2 * w] = Math.min(total, w * share);
      ctl[17 + 2 * w] = Math.min(total, (w + 1) * share);
    }
    ctl[2] = kind;
    ctl.set(args.map((v) => v | 0), 3);
    if (float) new Float32Array(ctl.buffer, ctl.byteOffset, CONTROL_INTS)[float[0]] = float[1];
    Atomics.store(ctl, 1, 0);
    Atomics.store(ctl, 0, ++this.seq);
    Atomics.notify(ctl, 0);
    return [Math.min(total, this.size * share), total];
  }

  private join(): void {
    for (let done; (done = Atomics.load(this.ctl, 1)) < this.size; ) Atomics.wait(this.ctl, 1, done);
    if (this.ctl[15] !== 0) throw new Error('a wavprobe kernel worker failed');
  }
}
