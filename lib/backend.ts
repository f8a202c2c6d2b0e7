/**
 * Backend selection. The default, `wasm`, installs and runs offline everywhere (SIMD in Node).
 * `tensorflow` / `tensorflow-gpu` use @tensorflow/tfjs-node(-gpu) when the user has installed them; they are
 * optional dependencies, loaded lazily, never needed by tests.
 */
import * as v8 from 'v8';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { OutOfMemoryError, UsageError } from './errors';
import { WasmModule, installKernels } from './kernels';
import { withWasmThreads } from './wasm-threads';

export const BACKENDS = ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const NODE_PACKAGES: Record<string, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
};

export const TFJS_NODE_HELP =
  'it needs libtensorflow, which its install script downloads. Install it with `npm install <pkg>@4.22.0`; ' +
  'offline, serve the libtensorflow tarball from a local HTTP server and set TFJS_NODE_BASE_URI to it, or ' +
  'unpack the tarball into node_modules/<pkg>/deps/ and run `npm rebuild <pkg>`. See README "Backends".';

let wasmRegistered = false;
let wasmThreads = 1;

/** Threads only take effect on the first initialisation of the wasm backend in this process. */
async function registerWasm(threads?: number): Promise<void> {
  if (wasmRegistered) return;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (threads && threads > 0) wasm.setThreadsCount(threads);
  wasmThreads = threads ?? 1;
  wasmRegistered = true;
}

/** The wasm backend's thread count once initialised (1 unless threads were asked for). */
export async function wasmThreadsCount(): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return wasm.getThreadsCount();
}

/** Switches tfjs to `name` and waits until it is ready. Idempotent. */
export async function useBackend(name: BackendName = 'wasm', opts: { threads?: number } = {}): Promise<string> {
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown backend "${name}" (choose one of ${BACKENDS.join(', ')})`);
  }
  if (name === 'wasm') {
    // Compile wasm with the optimising tier up front, not a baseline that tiers up hot functions in the background,
    // which on 2 cores competes with the forward for them (wav2vec2-base 10 s, 2 threads, 6 fresh processes each,
    // alternated: median of medians 1.506 s → 1.468 s, every pair faster; ~0.3 s more at start). Before tfjs
    // compiles its module.
    v8.setFlagsFromString('--no-wasm-dynamic-tiering');
    await registerWasm(opts.threads);
  }
  const pkg = NODE_PACKAGES[name];
  if (pkg) {
    try {
      await import(pkg);
    } catch {
      throw new UsageError(`backend "${name}" needs ${pkg}, which is not installed or did not load: ${TFJS_NODE_HELP.replace(/<pkg>/g, pkg)}`);
    }
  }
  const tfName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  if (tf.getBackend() !== tfName) {
    // Threaded wasm needs a patched loader in Node (lib/wasm-threads.ts), applied while the backend first starts.
    const start = () => tf.setBackend(tfName);
    const threaded = tfName === 'wasm' && wasmThreads > 1 && !('wasm' in tf.engine().registry);
    const ok = threaded ? await withWasmThreads(wasmThreads, start) : await start();
    if (!ok) throw new UsageError(`backend "${name}" failed to initialise`);
  }
  await tf.ready();
  if (tfName === 'wasm') {
    guardWasmHeap();
    installKernels(wasmThreads);
  }
  // The cpu backend nags about tfjs-node on its first tensor in Node; wavprobe's own help says that better.
  if (tfName === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return tf.getBackend();
}

const guarded = new WeakSet<WasmModule>();

/**
 * tfjs-wasm places each new tensor wherever _malloc says, and a full heap says 0: the tensor then overwrites the
 * start of wasm memory, and a later kernel fails with "memory access out of bounds" or computes on corrupt data.
 * Guarded, the allocation throws a plain error instead, before anything is written, and the backend stays usable.
 */
function guardWasmHeap(): void {
  const wasm = (tf.backend() as unknown as { wasm: WasmModule }).wasm;
  if (guarded.has(wasm)) return;
  wasm._free(wasm._malloc(8)); // emscripten's lazy stub replaces itself with the real export on its first call
  const malloc = wasm._malloc;
  wasm._malloc = (bytes: number) => {
    // Past 4 GiB the size would wrap around in wasm's 32-bit argument and a small block would be handed out.
    const offset = bytes < 2 ** 32 ? malloc(bytes) : 0;
    if (offset === 0 && bytes > 0) {
      const mb = (n: number) => `${Math.round(n / 2 ** 20)} MB`;
      throw new OutOfMemoryError(
        `the wasm backend's heap is full: ${mb(bytes)} more did not fit in ${mb(wasm.HEAPU8.length)} (4 GB at most). ` +
          'Use shorter audio or windows, fewer layers (--layers), a smaller batch, or the tensorflow backend.',
      );
    }
    return offset;
  };
  guarded.add(wasm);
}

/** Whether an optional package can be resolved, without loading it. */
export function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
