import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { keyPaddingBias, multiHeadAttention, selfAttention } from '../../lib/nn/attention';
import { mulberry32 } from '../../lib/random';
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
    expect(b.shape).toEqual([1, 3]);
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

  const inputs = () => {
    const [B, T] = r.x.shape;
    return {
      x: tensorOf(r.x) as tf.Tensor3D,
      keyBias: keyPaddingBias(tensorOf(r.mask) as tf.Tensor2D), // [B, T]
      bias: tf.reshape(tensorOf(r.position_bias), [r.heads, T, T]) as tf.Tensor3D,
      B,
      T,
    };
  };

  it('multiHeadAttention (the fused kernel on wasm) matches the float64 reference, gate 1', () => {
    const before = tf.memory().numTensors;
    const [outErr, entErr] = tf.tidy(() => {
      const { x, keyBias, bias, B, T } = inputs();
      const position = { bias, gate: tf.ones([B, r.heads, T]) as tf.Tensor3D };
      const fast = multiHeadAttention(x, params(), r.heads, { keyBias, position });
      const withEntropy = multiHeadAttention(x, params(), r.heads, { keyBias, position, entropy: true }); // tfjs ops
      return [Math.max(maxErr(fast.output, r.out), maxErr(withEntropy.output, r.out)), maxErr(withEntropy.entropy!, r.entropy)];
    });
    expect(outErr).toBeLessThanOrEqual(1e-5);
    expect(entErr).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('multiHeadAttention gates the position bias per row, head and query like the tfjs-ops path', () => {
    const diff = tf.tidy(() => {
      const { x, keyBias, bias, B, T } = inputs();
      const rand = mulberry32(5);
      const gate = tf.tensor3d(
        Float32Array.from({ length: B * r.heads * T }, () => 3 * rand()),
        [B, r.heads, T],
      );
      const fast = multiHeadAttention(x, params(), r.heads, { keyBias, position: { bias, gate } }).output;
      const plain = multiHeadAttention(x, params(), r.heads, { keyBias, position: { bias, gate }, entropy: true }).output;
      return tf.max(tf.abs(tf.sub(fast, plain))).dataSync()[0];
    });
    expect(diff).toBeLessThanOrEqual(1e-5);
  });

  it('matches softmax(q·kᵀ/√d + position bias, keys masked)·v with in/out projections (float64 reference)', () => {
    const before = tf.memory().numTensors;
    const [outErr, entErr] = tf.tidy(() => {
      const p = params();
      const [B, T] = r.x.shape;
      const biases = [tensorOf(r.position_bias), tf.reshape(keyPaddingBias(tensorOf(r.mask) as tf.Tensor2D), [B, 1, 1, T])];
      const res = selfAttention(tensorOf(r.x) as tf.Tensor3D, p, r.heads, { biases, entropy: true });
      return [maxErr(res.output, r.out), maxErr(res.entropy!, r.entropy)];
    });
    expect(outErr).toBeLessThanOrEqual(1e-5);
    expect(entErr).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });
});
