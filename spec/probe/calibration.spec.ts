import { fitPlatt, fitTemperature, logitNll } from '../../lib/probe/calibration';
import { sigmoid } from '../../lib/probe/logreg';
import { gaussian, probeJson, probeNpy } from '../helpers/probe';

interface TsCase {
  logits: string;
  y: string;
  temperature: number;
  nll_before: number;
  nll_after: number;
}

describe('temperature scaling against temperature.json', () => {
  const cases = probeJson<TsCase[]>('temperature.json');
  it('has three sets', () => expect(cases).toHaveLength(3));
  it.each(cases.map((c) => [c.logits, c] as const))('%s', (_name, c) => {
    const l = probeNpy(c.logits).data;
    const y = probeNpy(c.y).data;
    const T = fitTemperature(l, y);
    expect(Math.abs(T - c.temperature) / c.temperature).toBeLessThan(1e-4);
    expect(logitNll(l, y)).toBeCloseTo(c.nll_before, 6);
    expect(logitNll(l, y, 1 / T)).toBeCloseTo(c.nll_after, 6);
  });
});

describe('calibration edge cases', () => {
  it('returns the bound T = 1e-4 when the scores are perfectly ordered', () => {
    expect(fitTemperature([-2, -1, 1, 2], [0, 0, 1, 1])).toBe(1e-4);
  });
  it('returns the bound T = 1e4 when the scores point the wrong way', () => {
    expect(fitTemperature([-2, -1, 1, 2], [1, 1, 0, 0])).toBe(1e4);
  });
});

describe('Platt scaling', () => {
  const g = gaussian(3);
  const n = 500;
  const y = Uint8Array.from({ length: n }, (_, i) => Number(i % 3 === 0));
  const logits = Float64Array.from(y, (v) => 3 * g() + (v ? 2 : -1));

  it('reaches a stationary point of the NLL against Platt targets', () => {
    const { a, b } = fitPlatt(logits, y);
    const pos = y.reduce((s, v) => s + v, 0);
    const tPos = (pos + 1) / (pos + 2);
    const tNeg = 1 / (n - pos + 2);
    let ga = 0;
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const r = 1 / (1 + Math.exp(-(a * logits[i] + b))) - (y[i] ? tPos : tNeg);
      ga += r * logits[i];
      gb += r;
    }
    expect(Math.abs(ga / n)).toBeLessThan(1e-8);
    expect(Math.abs(gb / n)).toBeLessThan(1e-8);
    expect(a).toBeGreaterThan(0);
  });

  it('is at least as good as temperature scaling on the NLL (it has one more parameter)', () => {
    const { a, b } = fitPlatt(logits, y);
    const T = fitTemperature(logits, y);
    const nll = (f: (z: number) => number) => -logits.reduce((s, z, i) => s + Math.log(y[i] ? f(z) : 1 - f(z)), 0) / n;
    expect(nll((z) => sigmoid(a * z + b))).toBeLessThanOrEqual(nll((z) => sigmoid(z / T)) + 1e-4);
  });
});
