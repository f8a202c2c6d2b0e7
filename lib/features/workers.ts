/**
 * Who pools the files of an extraction: this thread (one worker, or a front-end object the caller opened), or
 * ExtractionWorkers, worker threads (extract-worker.ts) each with its own backend and copy of the model. Either
 * way the unit of work is poolFile and each file's result is a promise (extract.ts commits them in item order).
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { BackendName } from '../backend';
import { loadAudio } from '../audio';
import { WavprobeError } from '../errors';
import type { FrontEndSpec, PooledFrontEnd } from './frontend';
import { openFrontEnd } from './frontends';
import { firstNonFinite } from './pool';

export type PoolFileResult = { vectors: Float32Array[]; std?: Float32Array[]; durationS: number } | { error: string };

/** The unit of work: decode one file, keep its first `maxSeconds`, pool it. Unreadable audio is a result, not a throw. */
export async function poolFile(fe: PooledFrontEnd, file: string, maxSeconds?: number): Promise<PoolFileResult> {
  try {
    const audio = await loadAudio(file, { minSamples: fe.minSamples });
    const samples = maxSeconds ? audio.samples.subarray(0, Math.round(maxSeconds * audio.sampleRate)) : audio.samples;
    const { vectors, std } = await fe.pool(samples);
    const bad = firstNonFinite(vectors, fe.layers) ?? (std ? firstNonFinite(std, fe.layers) : null);
    if (bad) return { error: bad };
    return { vectors, ...(std && { std }), durationS: samples.length / audio.sampleRate };
  } catch (e) {
    if (e instanceof WavprobeError) return { error: e.reason };
    throw e;
  }
}

export interface FileRunner {
  /** How many files may be queued or running at once. */
  inFlight: number;
  run(file: string, maxSeconds?: number): Promise<PoolFileResult>;
  close(): Promise<void>;
}

/** `workers` threads for a FrontEndSpec; this thread for one worker or for a front-end the caller opened (and disposes). */
export function openRunner(frontEnd: PooledFrontEnd | FrontEndSpec, workers: number, backend: BackendName): FileRunner {
  if ('pool' in frontEnd || workers <= 1) {
    const fe = 'pool' in frontEnd ? frontEnd : openFrontEnd(frontEnd);
    return { inFlight: 1, run: (file, s) => poolFile(fe, file, s), close: async () => (fe === frontEnd ? undefined : fe.dispose()) };
  }
  return new ExtractionWorkers(frontEnd, workers, backend);
}

/** A file queued on a worker: how to settle its promise. */
type QueuedFile = { resolve: (r: PoolFileResult) => void; reject: (e: Error) => void };

/**
 * Worker threads running poolFile. Each worker holds up to `perWorker` files (it runs them one after another), so
 * it never idles while the main thread is busy committing a result.
 */
class ExtractionWorkers implements FileRunner {
  readonly inFlight: number;
  private readonly workers: { w: Worker; jobs: Map<number, QueuedFile> }[];
  private nextId = 0;

  constructor(spec: FrontEndSpec, count: number, backend: BackendName, perWorker = 4) {
    this.inFlight = perWorker * count;
    // Under ts-jest/tsx this module is TypeScript: the worker then needs tsx's loader.
    const ts = __filename.endsWith('.ts');
    this.workers = Array.from({ length: count }, () => {
      const w = new Worker(path.join(__dirname, `extract-worker${ts ? '.ts' : '.js'}`), {
        workerData: { spec, backend },
        execArgv: ts ? ['--require', 'tsx/cjs'] : [],
      });
      const jobs = new Map<number, QueuedFile>();
      w.on('message', (m: { id: number; result?: PoolFileResult; fatal?: { reason?: string; file?: string; crash?: string } }) => {
        const job = jobs.get(m.id);
        jobs.delete(m.id);
        if (!m.fatal) job?.resolve(m.result!);
        else
          job?.reject(
            m.fatal.crash !== undefined ? new Error(`extraction worker: ${m.fatal.crash}`) : new WavprobeError(m.fatal.reason!, m.fatal.file),
          );
      });
      w.on('error', (e: Error) => {
        for (const job of jobs.values()) job.reject(e);
        jobs.clear();
      });
      return { w, jobs };
    });
  }

  /** Queues the file on the worker with the fewest files. */
  run(file: string, maxSeconds?: number): Promise<PoolFileResult> {
    const target = this.workers.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    const id = this.nextId++;
    return new Promise<PoolFileResult>((resolve, reject) => {
      target.jobs.set(id, { resolve, reject });
      target.w.postMessage({ id, file, maxSeconds });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(({ w }) => w.terminate()));
  }
}
