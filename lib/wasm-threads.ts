/**
 * Threaded wasm in Node. tfjs-backend-wasm ships a threaded SIMD build but never uses it in Node (tfjs issue #3830):
 *  1. its WASM_HAS_MULTITHREAD_SUPPORT flag answers false in Node;
 *  2. the pthread workers are started from blob: URLs, which Node's Worker cannot load, and are sent the main
 *     script as a Blob, which the worker glue cannot import;
 *  3. the C++ side caps threads at emscripten_num_logical_cores()/2 (= os.cpus().length/2 in Node).
 * enableWasmThreads() fixes all three before the backend initialises; the wasm binary and kernels are tfjs's own.
 */
import * as fs from 'fs';
import { Worker, WorkerOptions } from 'worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from './errors';

/** The @tensorflow/tfjs-backend-wasm release whose worker glue patchedWorkerSource() is written against. */
export const PATCHED_TFJS_WASM = '4.22.0';

/**
 * Throws a UsageError unless `installed` (default: the installed @tensorflow/tfjs-backend-wasm) is the release
 * the patch fits: another release's glue may differ in ways the regex below does not notice.
 */
export function checkTfjsWasmVersion(installed: string = require('@tensorflow/tfjs-backend-wasm/package.json').version): void {
  if (installed === PATCHED_TFJS_WASM) return;
  throw new UsageError(
    `--threads needs @tensorflow/tfjs-backend-wasm ${PATCHED_TFJS_WASM}, the release whose worker loader lib/wasm-threads.ts patches; ` +
      `${installed} is installed. Install ${PATCHED_TFJS_WASM}, or run with one thread.`,
  );
}

/** The worker glue tfjs embeds as a string literal, with a message hook that turns the Blob into source. */
function patchedWorkerSource(): string {
  const glue = fs.readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js'), 'utf8');
  const literal = /var wasmWorkerContents = ("(?:[^"\\]|\\.)*");/.exec(glue);
  // tfjs escapes newlines the same way before making its Blob.
  const source = literal && (JSON.parse(literal[1]) as string).replace(/\n/g, '\\n');
  const hook = 'parentPort.on("message",data=>onmessage({data:data}))';
  if (!source?.includes(hook))
    throw new Error(`the worker glue of @tensorflow/tfjs-backend-wasm ${PATCHED_TFJS_WASM} has an unexpected shape; cannot enable threads`);
  // The main script is `var WasmBackendModuleThreadedSimd = <factory>` cut from the bundle: it needs the bundle's
  // module-level names. Reading the Blob is async, so messages that arrive meanwhile wait in a queue.
  const prelude =
    "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis,_scriptDir=undefined;";
  const replacement = `(()=>{let queue=null;parentPort.on("message",data=>{
if(queue){queue.push(data);return}
if(data&&data.cmd==="load"&&typeof data.urlOrBlob!=="string"){queue=[];data.urlOrBlob.text().then(code=>{
const load=global.importScripts;global.importScripts=f=>f==="wavprobe:main"?(0,eval)(${JSON.stringify(prelude)}+code):load(f);
data.urlOrBlob="wavprobe:main";onmessage({data});const rest=queue;queue=null;for(const d of rest)onmessage({data:d})});return}
onmessage({data})})})()`;
  return source.replace(hook, () => replacement); // a function: the replacement holds `$$`
}

/**
 * Call after importing @tensorflow/tfjs-backend-wasm and before its backend initialises; `init` initialises it.
 * Returns what init returns. globalThis.Worker and os.cpus are patched for init only (the pthread pool is started
 * within it); WASM_HAS_MULTITHREAD_SUPPORT stays set, as it is true from then on. Node only.
 */
export async function withWasmThreads<T>(threads: number, init: () => Promise<T>): Promise<T> {
  checkTfjsWasmVersion();
  const source = patchedWorkerSource();
  class BlobWorker extends Worker {
    constructor(url: string | URL, opts?: WorkerOptions) {
      if (String(url).startsWith('blob:')) super(source, { ...opts, eval: true });
      else super(url, opts);
      this.unref();
    }

    /** The pool's threads live as long as the process and must not keep it from exiting. */
    ref(): void {}
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  // The emscripten glue assigns global.Worker = worker_threads.Worker when it loads: keep ours in place.
  const worker = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  Object.defineProperty(globalThis, 'Worker', { get: () => BlobWorker, set: () => undefined, configurable: true });
  // The module object itself (an `import *` would be a copy): the glue calls require('os').cpus().
  const nodeOs: { cpus: () => unknown[] } = require('os');
  const cpus = nodeOs.cpus;
  nodeOs.cpus = () => Array(2 * threads).fill(cpus()[0]); // read once, by the C++ static initialisers
  try {
    return await init();
  } finally {
    nodeOs.cpus = cpus;
    if (worker) Object.defineProperty(globalThis, 'Worker', worker);
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}
