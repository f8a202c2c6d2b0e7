import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../lib/backend';

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

  it('rejects an unknown backend', async () => {
    await expect(useBackend('webgl' as never)).rejects.toThrow(/unknown backend "webgl"/);
  });
});
