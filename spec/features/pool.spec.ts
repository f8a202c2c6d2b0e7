import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { meanPool, meanPoolTensor } from '../../lib/features/pool';

describe('meanPool', () => {
  it('averages the first validFrames rows; all rows by default', () => {
    const h = Float32Array.from([1, 2, 3, 4, 100, 200]); // [3, 2]
    expect(Array.from(meanPool(h, 3, 2, 2))).toEqual([2, 3]);
    expect(Array.from(meanPool(h, 3, 2, 1))).toEqual([1, 2]);
    const all = meanPool(h, 3, 2);
    expect(all[0]).toBeCloseTo(104 / 3, 5);
    expect(all[1]).toBeCloseTo(206 / 3, 5);
  });

  it('accumulates in float64 (a float32 running sum would lose the 1)', () => {
    // 1e8 + 1 rounds back to 1e8 in float32, so a float32 sum gives 0 instead of 1/3.
    expect(meanPool(Float32Array.from([1e8, 1, -1e8]), 3, 1)[0]).toBeCloseTo(1 / 3, 6);
  });

  it('rejects a size mismatch and a frame count out of range', () => {
    expect(() => meanPool(new Float32Array(5), 3, 2)).toThrow(RangeError);
    expect(() => meanPool(new Float32Array(6), 3, 2, 0)).toThrow(/validFrames must be an integer in 1…3, got 0/);
    expect(() => meanPool(new Float32Array(6), 3, 2, 4)).toThrow(RangeError);
  });
});

describe.each(['cpu', 'wasm'] as const)('meanPoolTensor on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  // [2, 3, 2]: batch 0 frames (1,2) (3,4) (5,6); batch 1 frames (10,20) (30,40) (50,60)
  const H = [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60];

  it('averages valid frames only, per batch row, without leaking tensors', () => {
    const before = tf.memory().numTensors;
    const h = tf.tensor3d(H, [2, 3, 2]);
    const mask = tf.tensor2d([1, 1, 0, 1, 0, 0], [2, 3]);
    const out = meanPoolTensor(h, mask);
    expect(out.shape).toEqual([2, 2]);
    expect(Array.from(out.dataSync())).toEqual([2, 3, 10, 20]);
    tf.dispose([h, mask, out]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes every frame without a mask; accepts int and bool masks', () => {
    const before = tf.memory().numTensors;
    const h = tf.tensor3d(H, [2, 3, 2]);
    const plain = meanPoolTensor(h);
    expect(Array.from(plain.dataSync())).toEqual([3, 4, 30, 40]);
    const intMask = tf.tensor2d([0, 1, 1, 0, 0, 1], [2, 3], 'int32');
    const boolMask = tf.tensor2d([0, 1, 1, 0, 0, 1], [2, 3], 'bool');
    const a = meanPoolTensor(h, intMask);
    const b = meanPoolTensor(h, boolMask);
    expect(Array.from(a.dataSync())).toEqual([4, 5, 50, 60]);
    expect(Array.from(b.dataSync())).toEqual([4, 5, 50, 60]);
    tf.dispose([h, plain, intMask, boolMask, a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives NaN for a row with no valid frame, and rejects a mask of the wrong shape', () => {
    const before = tf.memory().numTensors;
    const h = tf.tensor3d(H, [2, 3, 2]);
    const empty = tf.tensor2d([1, 0, 0, 0, 0, 0], [2, 3]);
    const out = meanPoolTensor(h, empty);
    const v = out.dataSync();
    expect([v[0], v[1]]).toEqual([1, 2]);
    expect(Number.isNaN(v[2]) && Number.isNaN(v[3])).toBe(true);
    const wrong = tf.ones([2, 2]) as tf.Tensor2D;
    expect(() => meanPoolTensor(h, wrong)).toThrow(/mask shape \[2,2\] does not match hidden states \[2,3,2\]/);
    tf.dispose([h, empty, out, wrong]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
