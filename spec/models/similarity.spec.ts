import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { centredRows, ckaMatrix, disposeOutput, linearCka, loadModel } from '../../lib/models';
import { GOLDEN } from '../helpers/fixtures';
import { caseInputs, readCase } from '../helpers/golden';
import { kernelCka } from '../helpers/cka';
import { gaussian } from '../helpers/probe';

/** Random [n, D] rows, each column with its own offset and scale. */
function randomRows(n: number, D: number, seed: number): Float64Array {
  const g = gaussian(seed);
  const offset = Array.from({ length: D }, () => 3 * g());
  return Float64Array.from({ length: n * D }, (_, i) => offset[i % D] + (1 + (i % D)) * g());
}

/** Rows times an orthogonal matrix (three Householder reflections) and a scale. */
function rotated(x: Float64Array, D: number, scale: number, seed: number): Float64Array {
  const g = gaussian(seed);
  const out = Float64Array.from(x);
  for (let r = 0; r < 3; r++) {
    const v = Array.from({ length: D }, () => g());
    const vv = v.reduce((s, a) => s + a * a, 0);
    for (let o = 0; o < out.length; o += D) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += out[o + d] * v[d];
      for (let d = 0; d < D; d++) out[o + d] -= (2 * dot * v[d]) / vv;
    }
  }
  return out.map((a) => a * scale);
}

beforeAll(() => useBackend('wasm'));

describe('linear CKA', () => {
  const n = 60;
  const x = randomRows(n, 8, 1);
  // y partly depends on x, so CKA is neither 0 nor 1.
  const y = Float64Array.from(randomRows(n, 5, 2), (v, i) => v + 2 * x[Math.floor(i / 5) * 8 + (i % 5)]);
  const cka = (a: Float64Array, Da: number, b: Float64Array, Db: number) => linearCka(centredRows(a, Da), Da, centredRows(b, Db), Db);

  it('equals the kernel form (centred Gram matrices, HSIC)', () => {
    const got = cka(x, 8, y, 5);
    expect(got).toBeGreaterThan(0.1);
    expect(got).toBeLessThan(0.99);
    expect(Math.abs(got - kernelCka(x, 8, y, 5))).toBeLessThan(1e-12);
  });

  it('is 1 on the diagonal, symmetric, in [0, 1], invariant to an orthogonal transform and isotropic scaling', () => {
    expect(cka(x, 8, x, 8)).toBeCloseTo(1, 12);
    expect(Math.abs(cka(x, 8, y, 5) - cka(y, 5, x, 8))).toBeLessThan(1e-12);
    for (let s = 3; s < 8; s++) {
      const v = cka(x, 8, randomRows(n, 4, s), 4);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(Math.abs(cka(rotated(x, 8, 7.5, 9), 8, y, 5) - cka(x, 8, y, 5))).toBeLessThan(1e-12);
    expect(cka(rotated(x, 8, 0.01, 10), 8, x, 8)).toBeCloseTo(1, 12);
  });

  it('ckaMatrix: the Gram form and the feature form both equal the kernel form on every pair', () => {
    const H = [8, 5, 12, 3];
    const raw = H.map((D, l) => Float64Array.from(randomRows(n, D, 20 + l), (v, i) => v + (l ? x[Math.floor(i / D) * 8 + ((i % D) % 8)] : 0)));
    const states = raw.map((r, l) => centredRows(r, H[l]));
    for (const form of ['gram', 'feature'] as const) {
      const m = ckaMatrix(states, H, form);
      for (let a = 0; a < H.length; a++)
        for (let b = 0; b < H.length; b++) {
          expect(Math.abs(m[a][b] - kernelCka(raw[a], H[a], raw[b], H[b]))).toBeLessThan(1e-12);
          expect(m[a][b]).toBe(m[b][a]);
        }
    }
  });

  it('centredRows keeps the masked rows only and centres them', () => {
    const c = centredRows([1, 10, 3, 20, 100, 100, 5, 30], 2, [1, 1, 0, 1]);
    expect(Array.from(c)).toEqual([-2, -10, 0, 0, 2, 10]);
  });
});

describe("forward's attention maps (outputs.attentionMaps)", () => {
  it('rows are distributions over the valid keys whose entropy is attentionEntropy', () => {
    const m = 'wavlm_base_tiny';
    const model = loadModel(path.join(GOLDEN, m));
    const { inputValues, attentionMask } = caseInputs(readCase(m, 'batch_padded'));
    const out = model.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true, attentionMaps: true } });
    try {
      const mask = out.frameMask!.dataSync();
      expect(out.attentionMaps).toHaveLength(model.config.numHiddenLayers);
      let maskedMass = 0;
      let sumError = 0;
      let entropyError = 0;
      out.attentionMaps!.forEach((maps, l) => {
        const [B, heads, T] = maps.shape;
        const p = maps.dataSync();
        const e = out.attentionEntropy![l].dataSync();
        for (let row = 0; row < B * heads * T; row++) {
          const b = Math.floor(row / (heads * T));
          let sum = 0;
          let ent = 0;
          for (let k = 0; k < T; k++) {
            const v = p[row * T + k];
            if (!mask[b * T + k]) maskedMass += v;
            sum += v;
            if (v > 0) ent -= v * Math.log(v);
          }
          sumError = Math.max(sumError, Math.abs(sum - 1));
          entropyError = Math.max(entropyError, Math.abs(ent - e[row]));
        }
      });
      expect(maskedMass).toBe(0);
      expect(sumError).toBeLessThan(1e-5);
      expect(entropyError).toBeLessThan(1e-4);
    } finally {
      tf.dispose([inputValues, attentionMask!]);
      disposeOutput(out);
      model.dispose();
    }
  });
});
