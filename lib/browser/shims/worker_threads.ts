/// <reference lib="dom" />
/**
 * `worker_threads` in the browser build, for the kernel pool (lib/kernels/pool.ts): its workers become Web Workers
 * over the shared wasm memory. The pool waits for its workers with Atomics.wait, and a worker that is still being
 * created cannot start while its creator blocks, so the engine starts them beforehand (prestartWorkers, awaited
 * before the backend initialises); `new Worker(source, {eval, workerData})` then hands the source and data to a
 * running one, which runs the source as Node's eval worker would.
 */
type Listener = (arg: unknown) => void;

/** The script of a started worker: runs the first message's source with `require('worker_threads')` answering workerData. */
const IDLE = `self.onmessage = (e) => {
  self.onmessage = null;
  const { source, workerData } = e.data;
  new Function('require', source)(() => ({ workerData }));
};
postMessage('started');`;

const idle: globalThis.Worker[] = [];

/** Starts `n` more Web Workers and resolves once each runs (they wait, idle, for a pool to take them). */
export async function prestartWorkers(n: number): Promise<void> {
  const url = URL.createObjectURL(new Blob([IDLE], { type: 'text/javascript' }));
  const started = Array.from({ length: n }, () => {
    const w = new globalThis.Worker(url, { name: 'wavprobe-kernels' });
    return new Promise<globalThis.Worker>((resolve, reject) => {
      w.onmessage = () => resolve(w);
      w.onerror = (e) => reject(new Error(`a kernel worker did not start: ${e.message}`));
    });
  });
  idle.push(...(await Promise.all(started)));
  URL.revokeObjectURL(url);
}

export class Worker {
  private readonly w: globalThis.Worker | undefined;
  private readonly listeners: Record<string, Listener[]> = {};

  constructor(source: string, opts: { eval?: boolean; workerData?: unknown; transferList?: Transferable[] }) {
    this.w = idle.shift();
    if (!this.w || !opts.eval) {
      // The pool then sees a worker that never becomes ready, and runs its kernels on one thread.
      queueMicrotask(() => this.emit('error', new Error('no prestarted Web Worker (prestartWorkers) for the kernel pool')));
      return;
    }
    this.w.onerror = (e) => this.emit('error', new Error(e.message));
    this.w.postMessage({ source, workerData: opts.workerData }, opts.transferList ?? []);
  }

  private emit(event: string, arg: unknown): void {
    for (const f of this.listeners[event] ?? []) f(arg);
  }

  on(event: string, f: Listener): this {
    (this.listeners[event] ??= []).push(f);
    return this;
  }

  unref(): void {}

  ref(): void {}

  async terminate(): Promise<number> {
    this.w?.terminate();
    this.emit('exit', 1);
    return 1;
  }
}

/** Web MessageChannel ports, with Node's unref() (a browser port never keeps anything alive). */
export class MessageChannel extends globalThis.MessageChannel {
  constructor() {
    super();
    for (const port of [this.port1, this.port2]) Object.assign(port, { unref: () => undefined });
  }
}

export type MessagePort = globalThis.MessagePort;

/**
 * Node reads a failed worker's reason synchronously; a browser port delivers it only to the event loop, which a
 * blocked thread does not run: the pool then reports the failure without its reason.
 */
export const receiveMessageOnPort = (): undefined => undefined;
