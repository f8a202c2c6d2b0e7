/// <reference lib="dom" />
/**
 * lib/wasm-threads.ts in the browser build. A cross-origin isolated page has what tfjs-backend-wasm's threaded
 * build needs (SharedArrayBuffer, Web Workers from blob: URLs), and tfjs loads it natively. What remains is the
 * same cap as in Node: its C++ side runs at most emscripten_num_logical_cores()/2 threads, which reads
 * navigator.hardwareConcurrency here, so init sees 2 · threads cores (restored afterwards).
 */
export const PATCHED_TFJS_WASM = '4.22.0';

export function checkTfjsWasmVersion(): void {}

export async function withWasmThreads<T>(threads: number, init: () => Promise<T>): Promise<T> {
  Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => 2 * threads, configurable: true });
  try {
    return await init();
  } finally {
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency; // the prototype's getter again
  }
}
