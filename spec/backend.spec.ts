import * as os from 'os';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../lib/backend';
import { UsageError } from '../lib/errors';
import { checkTfjsWasmVersion, withWasmThreads } from '../lib/wasm-threads';

describe('backend', () => {
  it('runs a matmul on wasm and cpu with the same answer', async () => {
    const a = [1, 2, 3, 4, 5, 6];
    const b = [7, 8, 9, 10, 11, 12];
    const results: number[][] = [];
    for (const name of ['wasm', 'cpu'] as const) {
      expect(await useBackend(name)).toBe(name);
      results.push(Array.from(tf.tidy(() => tf.matMul(tf.tensor2d(a, [2, 3]), tf.tensor2d(b, [3, 2]))).dataSync()));
    }
    expect(results[0]).toEqual([58, 64, 139, 154]);
    expect(results[1]).toEqual(results[0]);
  });

  it('names the missing package and how to install it for tensorflow backends', async () => {
    await expect(useBackend('tensorflow')).rejects.toThrow(/@tensorflow\/tfjs-node.*TFJS_NODE_BASE_URI/);
  });

  it('a tensor too large for the wasm heap throws a plain error, and the backend keeps working', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    // Unguarded, tfjs-wasm would place the first at offset 0 (a failed malloc) and overwrite the heap, and the second
    // (4 GiB, which wraps to 0 in wasm's 32-bit argument) in a block of a few bytes.
    expect(() => tf.fill([2 ** 30 - 1], 1)).toThrow(/wasm backend's heap is full: 4096 MB more did not fit/);
    expect(() => tf.fill([2 ** 30], 1)).toThrow(/wasm backend's heap is full: 4096 MB more did not fit/);
    expect(tf.memory().numTensors).toBe(before);
    const t = tf.tidy(() => tf.sum(tf.add(tf.ones([1000]), 1)));
    expect(t.dataSync()[0]).toBe(2000);
    t.dispose();
  });

  it('threads only on the tfjs-backend-wasm release whose worker loader lib/wasm-threads.ts patches', () => {
    expect(() => checkTfjsWasmVersion()).not.toThrow(); // the installed one
    expect(() => checkTfjsWasmVersion('4.23.0')).toThrow(UsageError);
    expect(() => checkTfjsWasmVersion('4.23.0')).toThrow(
      '--threads needs @tensorflow/tfjs-backend-wasm 4.22.0, the release whose worker loader lib/wasm-threads.ts patches; 4.23.0 is installed. Install 4.22.0, or run with one thread.',
    );
  });

  it('the threads loader patches globalThis.Worker and os.cpus only while the backend initialises', async () => {
    const flag = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const [worker, cpus] = [Object.getOwnPropertyDescriptor(globalThis, 'Worker'), os.cpus().length];
    const patched = () => ({ worker: typeof (globalThis as { Worker?: unknown }).Worker, cpus: os.cpus().length });
    try {
      await expect(withWasmThreads(3, async () => patched())).resolves.toEqual({ worker: 'function', cpus: 6 });
      await expect(withWasmThreads(3, () => Promise.reject(new Error('init failed')))).rejects.toThrow('init failed');
      expect([Object.getOwnPropertyDescriptor(globalThis, 'Worker'), os.cpus().length]).toEqual([worker, cpus]);
    } finally {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', flag);
    }
  });

  it('rejects an unknown backend', async () => {
    await expect(useBackend('webgl' as never)).rejects.toThrow(/unknown backend "webgl"/);
  });
});
