import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { gelu } from '../../lib/nn/gelu';
import { REF, maxErr, tensorOf } from '../helpers/nn-reference';

/** float64 erf: its Maclaurin series below 3, the continued fraction of erfc above (checked against REF below). */
function erf64(x: number): number {
  const t = Math.abs(x);
  let r: number;
  if (t < 3) {
    let [sum, term] = [t, t];
    for (let k = 1; Math.abs(term) > 1e-18 * Math.abs(sum); k++) {
      term *= (-t * t) / k;
      sum += term / (2 * k + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = 0;
    for (let k = 60; k >= 1; k--) f = k / 2 / (t + f);
    r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  }
  return x < 0 ? -r : r;
}

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

  it('gelu within 1e-6·max(1, |x|) of float64 on a dense grid of [−12, 12] (every path of the approximation)', () => {
    const xs: number[] = REF.erf.x.data;
    expect(Math.max(...xs.map((v, i) => Math.abs(erf64(v) - REF.erf.erf.data[i])))).toBeLessThan(1e-12); // the reference itself
    const n = 240001;
    const x = Float32Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
    const got = tf.tidy(() => gelu(tf.tensor1d(x)).dataSync());
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - 0.5 * x[i] * (1 + erf64(x[i] / Math.SQRT2))) / Math.max(1, Math.abs(x[i])));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });
});
