/** A worker thread of a multi-worker extraction: its own backend and model, pooling the files it is sent in order. */
import { parentPort, workerData } from 'worker_threads';
import { BackendName, useBackend } from '../backend';
import { WavprobeError } from '../errors';
import { poolFile } from './workers';
import type { FrontEndSpec, PooledFrontEnd } from './frontend';
import { openFrontEnd } from './frontends';

const { spec, backend } = workerData as { spec: FrontEndSpec; backend: BackendName };
let ready: Promise<PooledFrontEnd> | null = null;
let queue: Promise<void> = Promise.resolve();

async function run(job: { id: number; file: string; maxSeconds?: number }): Promise<void> {
  try {
    ready ??= useBackend(backend).then(() => openFrontEnd(spec));
    const result = await poolFile(await ready, job.file, job.maxSeconds);
    const transfer = 'vectors' in result ? [...result.vectors, ...(result.std ?? [])].map((v) => v.buffer as ArrayBuffer) : [];
    parentPort!.postMessage({ id: job.id, result }, transfer);
  } catch (e) {
    // Typed errors (a model that does not load, say) keep their reason and file; anything else is a crash.
    parentPort!.postMessage({
      id: job.id,
      fatal: e instanceof WavprobeError ? { reason: e.reason, file: e.file } : { crash: (e as Error)?.stack ?? String(e) },
    });
  }
}

// One file at a time, in the order sent.
parentPort!.on('message', (job: { id: number; file: string; maxSeconds?: number }) => {
  queue = queue.then(() => run(job));
});
