/**
 * Worker threads that run slices of a kernel job on the shared memory of tfjs-wasm's threaded build. The main
 * thread takes a slice too, then blocks until the workers are done: a job is synchronous, like every tfjs kernel.
 * The pool knows no particular kernel: index.ts hands it the jobs (derived from its KERNEL_EXPORTS table) and
 * each job's arguments as numbers.
 *
 * Control block (Int32 in the shared memory): [0] job sequence number, bumped per job (workers wait on it);
 * [1] the job's index; [2] workers ready; [3], [4] base and bytes per thread of the per-thread regions;
 * [8, 24) the job's arguments (float ones through a Float32 view of their slot); from [32], four per worker: its
 * slice's lo and hi, the sequence number of the last job it finished (the main thread waits on it), and 1 when
 * that job failed (the reason comes through the worker's MessagePort).
 */
import { MessageChannel, MessagePort, Worker, receiveMessageOnPort } from 'worker_threads';

const MAX_WORKERS = 64;
const MAX_ARGS = 16;
const [SEQ, JOB, READY, REGION, REGION_BYTES, ARGS, WORKER_SLOTS] = [0, 1, 2, 3, 4, 8, 32];
const [LO, HI, DONE, FAILED] = [0, 1, 2, 3]; // offsets in a worker's four slots
const CONTROL_INTS = WORKER_SLOTS + 4 * MAX_WORKERS;
/**
 * Checks of a flag before sleeping on it (~0.2 ms): a forward's kernels come tens of µs apart, and a worker woken
 * from Atomics.wait starts ~50 µs late on this VM (a GELU job over 64 Ki values: 85 µs a round trip sleeping, 35–55
 * spinning first). Workers spin for the next job, the main thread for the workers' last slices.
 */
const SPIN = 20_000;

/** A sliced export as every thread calls it: name(...args, lo, hi), then the thread's own region when perThread. */
export interface PoolJob {
  name: string;
  /** One per argument: whether its slot holds a float (else an int). */
  floats: readonly boolean[];
  perThread: boolean;
}

/** The per-thread regions of a job (scratch, partial sums): thread t's starts at base + t·bytes. */
export interface Region {
  base: number;
  bytes: number;
}

export interface PoolOptions {
  /**
   * Once its own slice is done, the main thread waits this long for the workers, plus ten times its slice's time
   * (so a long job never trips it), then counts a worker that has not finished as dead or stuck. Default 30 s.
   */
  timeoutMs?: number;
}

/** A job's call in the worker's source: its arguments read from their slots, its slice, then its region. */
function callOf(job: PoolJob): string {
  const args = job.floats.map((isFloat, i) => (isFloat ? `floats[${i}]` : `ints[${i}]`));
  args.push('lo', 'hi');
  if (job.perThread) args.push(`ctl[${REGION}] + index * ctl[${REGION_BYTES}]`);
  return `k[${JSON.stringify(job.name)}](${args.join(', ')})`;
}

/**
 * What each worker runs (plain JS: it must load without the TypeScript toolchain). The calls are written out
 * per job rather than spread from an array: a spread call into wasm costs ~0.1 µs, a direct one ~10 ns.
 */
const workerSource = (jobs: readonly PoolJob[]) => `
const { workerData } = require('worker_threads');
const { module, memory, control, index, port } = workerData;
const ctl = new Int32Array(memory.buffer, control, ${CONTROL_INTS});
const ints = new Int32Array(memory.buffer, control + ${4 * ARGS}, ${MAX_ARGS});
const floats = new Float32Array(memory.buffer, control + ${4 * ARGS}, ${MAX_ARGS});
const mine = ${WORKER_SLOTS} + 4 * index;
const fail = (e) => {
  ctl[mine + ${FAILED}] = 1;
  port.postMessage(String(e));
};
let k;
try {
  k = new WebAssembly.Instance(module, { env: { memory } }).exports;
} catch (e) {
  fail(e);
}
Atomics.add(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let seen = 0;
while (k) {
  for (let spin = 0; spin < ${SPIN} && Atomics.load(ctl, ${SEQ}) === seen; spin++);
  Atomics.wait(ctl, ${SEQ}, seen);
  seen = Atomics.load(ctl, ${SEQ});
  const lo = ctl[mine + ${LO}], hi = ctl[mine + ${HI}];
  ctl[mine + ${FAILED}] = 0;
  if (lo < hi) {
    try {
      switch (ctl[${JOB}]) {
${jobs.map((job, i) => `        case ${i}: ${callOf(job)}; break;`).join('\n')}
      }
    } catch (e) {
      fail(e);
    }
  }
  Atomics.store(ctl, mine + ${DONE}, seen);
  Atomics.notify(ctl, mine + ${DONE});
}
`;

export class WorkerPool {
  private seq = 0;
  private readonly ints: Int32Array;
  private readonly floats: Float32Array;
  private readonly jobIndex: Map<string, number>;
  /** Set when a worker was found dead or stuck: the workers are stopped and the pool runs no more jobs. */
  private stoppedBecause?: string;
  /** A worker that exited between jobs (seen by its 'exit' event): the next job fails at once. */
  private exited?: string;

  private constructor(
    private readonly ctl: Int32Array,
    private readonly jobs: readonly PoolJob[],
    private readonly workers: readonly Worker[],
    private readonly ports: readonly MessagePort[],
    private readonly timeoutMs: number,
  ) {
    this.ints = new Int32Array(ctl.buffer, ctl.byteOffset + 4 * ARGS, MAX_ARGS);
    this.floats = new Float32Array(ctl.buffer, ctl.byteOffset + 4 * ARGS, MAX_ARGS);
    this.jobIndex = new Map(jobs.map((job, i) => [job.name, i]));
    workers.forEach((w, i) => {
      w.on('error', (e) => (this.exited ??= `worker ${i} failed outside a job: ${String(e)}`));
      w.on('exit', (code) => (this.exited ??= `worker ${i} exited (code ${code})`));
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** False once the pool has stopped its workers (see run); the kernels then run on the main thread alone. */
  get running(): boolean {
    return this.stoppedBecause === undefined;
  }

  /**
   * Starts `size` workers on `memory` and waits (up to 10 s) until each has instantiated the module; undefined,
   * with the workers stopped, if one failed (the kernels then run on the main thread alone).
   */
  static start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    heap: { _malloc(n: number): number },
    size: number,
    jobs: readonly PoolJob[],
    { timeoutMs = 30_000 }: PoolOptions = {},
  ): WorkerPool | undefined {
    const tooMany = jobs.find((job) => job.floats.length > MAX_ARGS);
    if (tooMany) throw new Error(`${tooMany.name} has ${tooMany.floats.length} arguments; the pool passes at most ${MAX_ARGS}`);
    size = Math.min(size, MAX_WORKERS);
    const control = heap._malloc(4 * CONTROL_INTS) >>> 0;
    const ctl = new Int32Array(memory.buffer, control, CONTROL_INTS);
    ctl.fill(0);
    const ports: MessagePort[] = [];
    const source = workerSource(jobs);
    const workers = Array.from({ length: size }, (_, index) => {
      const { port1, port2 } = new MessageChannel();
      port1.unref();
      ports.push(port1);
      const workerData = { module, memory, control, index, port: port2 };
      const w = new Worker(source, { eval: true, workerData, transferList: [port2] });
      w.unref(); // idle workers never keep the process alive
      return w;
    });
    const deadline = Date.now() + 10_000;
    for (let ready; (ready = Atomics.load(ctl, READY)) < size && Date.now() < deadline;) Atomics.wait(ctl, READY, ready, 100);
    if (Atomics.load(ctl, READY) < size || workers.some((_, w) => ctl[WORKER_SLOTS + 4 * w + FAILED] !== 0)) {
      for (const w of workers) void w.terminate();
      return undefined;
    }
    return new WorkerPool(ctl, jobs, workers, ports, timeoutMs);
  }

  /**
   * Runs job `name` (its arguments as numbers) over [0, total) in slices aligned to `align`: the workers take
   * the first slices, this thread the last one through `own(lo, hi)`. Throws an error naming the job, the
   * failed threads and why when a slice fails; the pool stays usable. A worker that has exited, or does not
   * finish in time, is an error too, and then the pool stops its workers for good.
   */
  run(name: string, args: readonly number[], total: number, align: number, own: (lo: number, hi: number) => void, region?: Region): void {
    const job = this.jobIndex.get(name);
    if (job === undefined || args.length !== this.jobs[job].floats.length)
      throw new Error(`the worker pool has no job ${name} of ${args.length} arguments`);
    if (!this.running) throw new Error(`wavprobe kernel ${name}: the worker pool was stopped (${this.stoppedBecause})`);
    if (this.exited) this.stop(`wavprobe kernel ${name}: ${this.exited}`);
    const ctl = this.ctl;
    const share = Math.ceil(total / (this.size + 1) / align) * align;
    const from = (w: number) => Math.min(total, w * share); // worker w's slice: [from(w), from(w + 1))
    const slice = (w: number) => `[${from(w)}, ${from(w + 1)})`;
    for (let w = 0; w < this.size; w++) {
      ctl[WORKER_SLOTS + 4 * w + LO] = from(w);
      ctl[WORKER_SLOTS + 4 * w + HI] = from(w + 1);
    }
    ctl[JOB] = job;
    args.forEach((v, i) => (this.jobs[job].floats[i] ? (this.floats[i] = v) : (this.ints[i] = v)));
    ctl[REGION] = region?.base ?? 0;
    ctl[REGION_BYTES] = region?.bytes ?? 0;
    const seq = ++this.seq;
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ);

    const failures: string[] = [];
    const started = performance.now();
    const lo = from(this.size);
    try {
      if (lo < total) own(lo, total);
    } catch (e) {
      failures.push(`the main thread failed on ${slice(this.size)}: ${String(e)}`);
    }
    const deadline = performance.now() + this.timeoutMs + 10 * (performance.now() - started);
    for (let w = 0; w < this.size; w++) {
      const done = WORKER_SLOTS + 4 * w + DONE;
      for (let spin = 0; spin < SPIN && Atomics.load(ctl, done) !== seq; spin++);
      for (let last; (last = Atomics.load(ctl, done)) !== seq;) {
        const left = deadline - performance.now();
        if (left <= 0) this.stop(`wavprobe kernel ${name}: worker ${w} did not finish its slice ${slice(w)} of ${total} (dead or stuck)`);
        Atomics.wait(ctl, done, last, left);
      }
      if (ctl[WORKER_SLOTS + 4 * w + FAILED]) {
        const reason = receiveMessageOnPort(this.ports[w])?.message ?? 'no reason given';
        failures.push(`worker ${w} failed on ${slice(w)}: ${String(reason)}`);
      }
    }
    if (failures.length) throw new Error(`wavprobe kernel ${name} failed: ${failures.join('; ')}`);
  }

  /** Stops the workers for good (a stuck one may still write to the memory later) and throws `reason`. */
  private stop(reason: string): never {
    this.stoppedBecause = reason;
    for (const w of this.workers) void w.terminate();
    throw new Error(`${reason}; the worker threads are stopped and the kernels continue on the main thread alone`);
  }
}
