import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { gelu } from '../../lib/nn/gelu';
import { REF, maxErr, tensorOf } from '../helpers/nn-reference';

describe.each(['wasm', 'cpu'] as const)('erf and exact GELU on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('tf.erf is a native kernel within 1e-6 of float64 math.erf on [-10, 10]', () => {
    const err = tf.tidy(() => maxErr(tf.erf(tensorOf(REF.erf.x)), REF.erf.erf));
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  it('gelu = 0.5·x·(1 + erf(x/√2)) within 1e-6·max(1, |x|) of float64, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const x = tensorOf(REF.erf.x);
    const y = gelu(x);
    const xs: number[] = REF.erf.x.data;
    const got = y.dataSync();
    const worst = Math.max(...xs.map((v, i) => Math.abs(got[i] - REF.erf.gelu.data[i]) / Math.max(1, Math.abs(v))));
    expect(worst).toBeLessThanOrEqual(1e-6);
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
