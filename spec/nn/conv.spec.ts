import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { conv1d, groupedConv1d } from '../../lib/nn/conv';
import { toStoredLayout } from '../../lib/weights/keymap';
import { REF, RefArray, maxErr, tensorOf } from '../helpers/nn-reference';

/** A torch-layout conv weight [Cout, Cin/G, K] from the reference, as the stored tfjs filter [K, Cin/G, Cout]. */
const filterOf = (w: RefArray) => {
  const t = toStoredLayout({ shape: w.shape, data: Float32Array.from(w.data) }, 'conv');
  return tf.tensor(t.data, t.shape);
};

describe.each(['wasm', 'cpu'] as const)('1-D convolutions on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('conv1d by hand: [1, 2, 3, 4, 5] with taps [1, 10], stride 2 → [21, 43]', () => {
    const y = tf.tidy(() => Array.from(conv1d(tf.tensor3d([1, 2, 3, 4, 5], [1, 5, 1]), tf.tensor3d([1, 10], [2, 1, 1]), 2).dataSync()));
    expect(y).toEqual([21, 43]);
  });

  it('conv1d with stride and bias matches torch Conv1d (float64 reference)', () => {
    const r = REF.conv1d;
    const err = tf.tidy(() => maxErr(conv1d(tensorOf(r.x) as tf.Tensor3D, filterOf(r.w), r.stride, tensorOf(r.bias)), r.out));
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('grouped conv by hand: 2 groups each see only their own channel', () => {
    // x channels: a = [1, 2, 3], b = [10, 20, 30]; group 0 filter taps [1, 1] on a, group 1 taps [1, -1] on b; no padding.
    const y = tf.tidy(() => {
      const filter = tf.tensor3d([1, 1, 1, -1], [2, 1, 2]); // [K=2, 1, Cout=2]
      return Array.from(groupedConv1d(tf.tensor3d([1, 10, 2, 20, 3, 30], [1, 3, 2]), filter, 2, 0).dataSync());
    });
    expect(y).toEqual([3, -10, 5, -10]);
  });

  it('grouped conv with padding and bias matches torch Conv1d(groups=3) (float64 reference), no leaks', () => {
    const r = REF.grouped_conv1d;
    const before = tf.memory().numTensors;
    const err = tf.tidy(() => maxErr(groupedConv1d(tensorOf(r.x) as tf.Tensor3D, filterOf(r.w), r.groups, r.pad, tensorOf(r.bias)), r.out));
    expect(err).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });
});
