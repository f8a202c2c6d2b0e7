/// <reference lib="dom" />
/**
 * The library on the page, as `globalThis.wavprobe`: each call goes to the engine worker (engine-worker.ts). The
 * contract external checks call:
 *   forward({ model: url, inputs: { input_values: {shape, data}, attention_mask? }, threads })
 *     → { [name]: { shape, data: Float32Array } }, the tensors `wavprobe forward` writes;
 *   detect({ model: url, head: url, audio: ArrayBuffer, threads }) → the object `wavprobe detect --json` prints.
 * Threads and Strassen's layout are fixed when an engine starts: a call that asks for others replaces the engine.
 */
import type { Call, DetectRequest, EngineInfo, ForwardRequest, InspectRequest, InspectResult, Reply, TensorJson } from './protocol';
import type { Detection, DetectionFailure } from '../detector';

export type { EngineInfo, InspectResult, TensorJson } from './protocol';

export interface CallOptions {
  /** Threads for the engine (default: up to 4 when the page is cross-origin isolated, else 1). */
  threads?: number;
  /**
   * Dense weights in the layout of one level of Strassen: 5–7 % faster forwards for 3/4 more memory for those
   * weights (XLS-R 300M: +0.9 GB). Default false in the page, where memory is dearer than in Node.
   */
  strassen?: boolean;
  /** Bytes of the model store fetched so far (it is cached after the first load). */
  onProgress?: (p: { loaded: number; total: number; file: string }) => void;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: CallOptions['onProgress'] };

class Engine {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  readonly ready: Promise<EngineInfo>;

  constructor(
    readonly threads: number,
    readonly strassen: boolean,
  ) {
    const url = new URL('engine.js', document.baseURI);
    this.worker = new Worker(url, { name: 'wavprobe-engine' });
    this.worker.onmessage = (e: MessageEvent<Reply>) => {
      const r = e.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      if ('progress' in r) return p.onProgress?.(r.progress);
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(Object.assign(new Error(r.error.message), { name: r.error.name }));
    };
    this.worker.onerror = (e) => {
      e.preventDefault(); // reported through the calls' promises, not as a page error
      const error = new Error(`the engine worker failed: ${e.message}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.ready = this.call({ op: 'init', threads, base: new URL('./', url).href, strassen }) as Promise<EngineInfo>;
  }

  call(req: Call, onProgress?: CallOptions['onProgress'], transfer: Transferable[] = []): Promise<unknown> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('the engine was replaced'));
  }
}

let engine: Engine | undefined;

export const defaultThreads = (): number => (self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1);

/** The engine for `threads` and `strassen` (started, or restarted with those). */
export async function engineFor({ threads = defaultThreads(), strassen = false }: Pick<CallOptions, 'threads' | 'strassen'> = {}): Promise<Engine> {
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a whole number ≥ 1, got ${threads}`);
  if (engine?.threads !== threads || engine.strassen !== strassen) {
    engine?.terminate();
    engine = new Engine(threads, strassen);
  }
  const e = engine;
  try {
    await e.ready;
  } catch (err) {
    e.terminate();
    if (engine === e) engine = undefined; // (unless a call with other options replaced it meanwhile)
    throw err;
  }
  return e;
}

export async function info(opts: CallOptions = {}): Promise<EngineInfo> {
  return (await engineFor(opts)).ready;
}

export async function forward(args: ForwardRequest & CallOptions): Promise<Record<string, TensorJson>> {
  const { threads, strassen, onProgress, ...req } = args;
  return (await (await engineFor({ threads, strassen })).call({ op: 'forward', args: req }, onProgress)) as Record<string, TensorJson>;
}

export async function detect(args: DetectRequest & CallOptions): Promise<Detection | DetectionFailure> {
  const { threads, strassen, onProgress, ...req } = args;
  // A copy goes to the worker: the caller keeps its ArrayBuffer.
  const audio = req.audio.slice(0);
  return (await (await engineFor({ threads, strassen })).call({ op: 'detect', args: { ...req, audio } }, onProgress, [audio])) as
    Detection | DetectionFailure;
}

/** A clip's look inside the model: `inspect --json --input`'s layers and layer_similarity, plus the attention maps. */
export async function inspect(args: InspectRequest & CallOptions): Promise<InspectResult> {
  const { threads, strassen, onProgress, ...req } = args;
  const audio = req.audio.slice(0);
  return (await (await engineFor({ threads, strassen })).call({ op: 'inspect', args: { ...req, audio } }, onProgress, [audio])) as InspectResult;
}

/** What `wavprobe serve --models DIR` offers: store folders, head files, audio (URL paths under /models/). */
export async function listModels(): Promise<{ stores: string[]; heads: string[]; audio: string[] }> {
  const res = await fetch(new URL('models/', document.baseURI));
  if (!res.ok) return { stores: [], heads: [], audio: [] };
  return (await res.json()) as { stores: string[]; heads: string[]; audio: string[] };
}

export const wavprobe = { forward, detect, inspect, info, listModels };
(globalThis as unknown as { wavprobe: typeof wavprobe }).wavprobe = wavprobe;
