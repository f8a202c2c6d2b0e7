import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { headwiseAttention, keyPaddingBias, selfAttention, splitAttentionHeadsOnBackend } from '../../lib/nn/attention';
import { toStoredLayout } from '../../lib/weights/keymap';
import { REF, RefArray, maxErr, tensorOf } from '../helpers/nn-reference';

const linearWeight = (w: RefArray) => {
  const t = toStoredLayout({ shape: w.shape, data: Float32Array.from(w.data) }, 'linear'); // [out, in] → [in, out]
  return tf.tensor(t.data, t.shape);
};

describe.each(['wasm', 'cpu'] as const)('self-attention on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  const r = REF.attention;

  it('keyPaddingBias is 0 on real frames and a large negative on padding', () => {
    const b = tf.tidy(() => keyPaddingBias(tf.tensor2d([1, 1, 0], [1, 3])));
    expect(b.shape).toEqual([1, 1, 1, 3]);
    const d = b.dataSync();
    expect([d[0], d[1]]).toEqual([0, 0]);
    expect(d[2]).toBeLessThan(-1e8);
    b.dispose();
  });

  const params = () => ({
    qWeight: linearWeight(r.q_weight),
    qBias: tensorOf(r.q_bias),
    kWeight: linearWeight(r.k_weight),
    kBias: tensorOf(r.k_bias),
    vWeight: linearWeight(r.v_weight),
    vBias: tensorOf(r.v_bias),
    outWeight: linearWeight(r.o_weight),
    outBias: tensorOf(r.o_bias),
  });

  it('headwiseAttention (per-head 2-D matMuls) matches the float64 reference and the plain selfAttention', () => {
    const before = tf.memory().numTensors;
    const [outErr, entErr, vsPlain] = tf.tidy(() => {
      const p = params();
      const hp = splitAttentionHeadsOnBackend(p, r.heads);
      const x = tensorOf(r.x) as tf.Tensor3D;
      const [B, T] = r.x.shape;
      const pos = tf.unstack(tf.reshape(tensorOf(r.position_bias), [r.heads, T, T])); // heads × [T, T]
      const keys = tf.unstack(tf.reshape(keyPaddingBias(tensorOf(r.mask) as tf.Tensor2D), [B, T])); // B × [T]
      const fast = headwiseAttention(x, hp, { bias: (b, h) => tf.add(pos[h], keys[b]), entropy: true });
      const plain = selfAttention(x, p, r.heads, { biases: [tensorOf(r.position_bias), keyPaddingBias(tensorOf(r.mask) as tf.Tensor2D)] });
      const diff = tf.max(tf.abs(tf.sub(fast.output, plain.output))).dataSync()[0];
      return [maxErr(fast.output, r.out), maxErr(fast.entropy!, r.entropy), diff];
    });
    expect(outErr).toBeLessThanOrEqual(1e-5);
    expect(entErr).toBeLessThanOrEqual(1e-5);
    expect(vsPlain).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches softmax(q·kᵀ/√d + position bias, keys masked)·v with in/out projections (float64 reference)', () => {
    const before = tf.memory().numTensors;
    const [outErr, entErr] = tf.tidy(() => {
      const p = params();
      const biases = [tensorOf(r.position_bias), keyPaddingBias(tensorOf(r.mask) as tf.Tensor2D)];
      const res = selfAttention(tensorOf(r.x) as tf.Tensor3D, p, r.heads, { biases, entropy: true });
      return [maxErr(res.output, r.out), maxErr(res.entropy!, r.entropy)];
    });
    expect(outErr).toBeLessThanOrEqual(1e-5);
    expect(entErr).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });
});
