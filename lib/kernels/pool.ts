/**
 * Worker threads that run slices of a kernel job on the shared memory of tfjs-wasm's threaded build. The main
 * thread takes a slice too, then blocks until the workers are done: a job is synchronous, like every tfjs kernel.
 *
 * Control block (Int32 in the shared memory): [0] job sequence number, bumped per job (workers wait on it);
 * [1] workers done with the current job; [2] job kind; [3] workers ready; [4] first error; [5..20] the job's
 * arguments (float ones are read through a Float32 view of their slot); [32 + 2w], [33 + 2w] worker w's slice.
 */
import { Worker } from 'worker_threads';

const MAX_WORKERS = 64;
const CONTROL_INTS = 32 + 2 * MAX_WORKERS;
const ARGS = 5;

/**
 * Job kinds, each the kernels.c call a worker makes with its slice [lo, hi) (`a` = argument slots, `f` = the
 * same slots as floats). Per-thread scratch is a base plus the thread's index times a stride.
 */
const JOBS = {
  gemm: 'k.gemm_cols(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], lo, hi, a[10] + index * a[11])',
  pack: 'k.pack_cols(a[0], a[1], a[2], a[3], lo, hi)',
  conv3s2: 'k.conv3s2_cols(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], lo, hi, a[9] + index * a[10])',
  groupedConv: 'k.grouped_conv_cols(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], lo, hi, a[11] + index * a[12])',
  gelu: 'k.gelu_range(a[0], a[1], lo, hi)',
  layerNorm: 'k.layer_norm_rows(a[0], a[1], a[2], a[3], a[4], f[5], a[6], lo, hi)',
  normalizeGelu: 'k.normalize_gelu_rows(a[0], a[1], a[2], a[3], a[4], a[5], a[6], lo, hi)',
  columnSums: 'k.column_sums(a[0], a[1], lo, hi, a[2] + index * a[3])',
  attention: 'k.attention_heads(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], f[10], lo, hi, a[11] + index * a[12])',
} as const;
export type Job = keyof typeof JOBS;
const KINDS = Object.keys(JOBS) as Job[];

/** Runs in each worker (plain JS: it must load without the TypeScript toolchain). */
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { module, memory, control, index } = workerData;
const ctl = new Int32Array(memory.buffer, control, ${CONTROL_INTS});
const a = new Int32Array(memory.buffer, control + ${4 * ARGS}, 16);
const f = new Float32Array(memory.buffer, control + ${4 * ARGS}, 16);
let k;
try {
  k = new WebAssembly.Instance(module, { env: { memory } }).exports;
} catch (e) {
  Atomics.store(ctl, 4, 1);
}
Atomics.add(ctl, 3, 1);
Atomics.notify(ctl, 3);
let seen = 0;
while (k) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  const lo = ctl[32 + 2 * index], hi = ctl[33 + 2 * index];
  try {
    if (lo < hi) switch (ctl[2]) {
${KINDS.map((kind, i) => `      case ${i}: ${JOBS[kind]}; break;`).join('\n')}
    }
  } catch (e) {
    Atomics.store(ctl, 4, 2);
  }
  Atomics.add(ctl, 1, 1);
  Atomics.notify(ctl, 1);
}
`;

export class WorkerPool {
  private seq = 0;
  private readonly args: Int32Array;
  private readonly floats: Float32Array;

  private constructor(
    private readonly ctl: Int32Array,
    readonly size: number,
  ) {
    this.args = new Int32Array(ctl.buffer, ctl.byteOffset + 4 * ARGS, 16);
    this.floats = new Float32Array(ctl.buffer, ctl.byteOffset + 4 * ARGS, 16);
  }

  /**
   * Starts `size` workers on `memory` and waits (up to 10 s) until each has instantiated the module; undefined,
   * with the workers stopped, if one failed (the kernels then run on the main thread alone).
   */
  static start(module: WebAssembly.Module, memory: WebAssembly.Memory, heap: { _malloc(n: number): number }, size: number): WorkerPool | undefined {
    size = Math.min(size, MAX_WORKERS);
    const control = heap._malloc(4 * CONTROL_INTS) >>> 0;
    const ctl = new Int32Array(memory.buffer, control, CONTROL_INTS);
    ctl.fill(0);
    const workers = Array.from({ length: size }, (_, index) => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control, index } });
      w.unref(); // idle workers never keep the process alive
      return w;
    });
    const deadline = Date.now() + 10_000;
    for (let ready; (ready = Atomics.load(ctl, 3)) < size && Date.now() < deadline; ) Atomics.wait(ctl, 3, ready, 100);
    if (Atomics.load(ctl, 3) < size || ctl[4] !== 0) {
      for (const w of workers) void w.terminate();
      return undefined;
    }
    return new WorkerPool(ctl, size);
  }

  /**
   * Runs job `kind` over [0, total) in slices aligned to `align`: the workers take the first slices, this thread
   * the last one through `own(lo, hi)`. `floatSlots` lists the argument slots that hold floats.
   */
  run(kind: Job, args: readonly number[], total: number, align: number, own: (lo: number, hi: number) => void, floatSlots: readonly number[] = []): void {
    const ctl = this.ctl;
    const share = Math.ceil(total / (this.size + 1) / align) * align;
    for (let w = 0; w < this.size; w++) {
      ctl[32 + 2 * w] = Math.min(total, w * share);
      ctl[33 + 2 * w] = Math.min(total, (w + 1) * share);
    }
    ctl[2] = KINDS.indexOf(kind);
    args.forEach((v, i) => (floatSlots.includes(i) ? (this.floats[i] = v) : (this.args[i] = v | 0)));
    Atomics.store(ctl, 1, 0);
    Atomics.store(ctl, 0, ++this.seq);
    Atomics.notify(ctl, 0);
    const lo = Math.min(total, this.size * share);
    if (lo < total) own(lo, total);
    for (let done; (done = Atomics.load(ctl, 1)) < this.size; ) Atomics.wait(ctl, 1, done); // wait on the value just read
    if (ctl[4] !== 0) throw new Error('a wavprobe kernel worker failed');
  }
}

