import { columnStats, sampleWeights, sigmoid, softplus, trainLogReg } from '../../lib/probe/logreg';
import { gaussian, probeJson, probeNpy } from '../helpers/probe';

interface Problem {
  X: string;
  y: string;
  n: number;
  d: number;
  C: number;
  standardize: boolean;
  mean: number[] | null;
  std: number[] | null;
  coef: number[];
  intercept: number;
  objective_value: number;
}

describe('logistic regression against the reference optima (logreg.json)', () => {
  const problems = probeJson<Problem[]>('logreg.json');
  it('has the four problems', () => expect(problems).toHaveLength(4));

  it.each(problems.map((p) => [p.X, p] as const))('%s: objective and coefficients at the optimum', (_name, p) => {
    const X = probeNpy(p.X);
    const y = probeNpy(p.y).data;
    expect(X.shape).toEqual([p.n, p.d]);
    const m = trainLogReg(X.data, p.n, p.d, y, { C: p.C, standardize: p.standardize });
    expect(m.objective).toBeLessThanOrEqual(p.objective_value * (1 + 1e-6));
    const largest = Math.max(...p.coef.map(Math.abs));
    for (let j = 0; j < p.d; j++) expect(Math.abs(m.weights[j] - p.coef[j])).toBeLessThanOrEqual(1e-3 * largest);
    expect(Math.abs(m.bias - p.intercept)).toBeLessThanOrEqual(1e-3 * Math.max(largest, Math.abs(p.intercept)));
    expect(m.converged).toBe(true);
    if (p.standardize) {
      for (let j = 0; j < p.d; j++) {
        expect(m.standardize!.mean[j]).toBeCloseTo(p.mean![j], 5);
        expect(m.standardize!.std[j] / p.std![j]).toBeCloseTo(1, 6);
      }
    } else expect(m.standardize).toBeNull();
  });
});

describe('logistic regression options', () => {
  // Two overlapping Gaussian classes, 3 features, 3:1 class imbalance.
  const n = 400;
  const d = 3;
  const g = gaussian(7);
  const y = Uint8Array.from({ length: n }, (_, i) => Number(i % 4 !== 0));
  const X = Float64Array.from({ length: n * d }, (_, k) => g() * (1 + (k % d)) + (y[Math.floor(k / d)] ? 0.8 : 0));

  // Stationarity, relative to the scale C·n of the data term's gradient.
  const TOL = 1e-8;

  /** Gradient of 0.5‖w‖² + C Σ cᵢ log(1 + exp(−sᵢ zᵢ)) in raw coordinates, written out independently. */
  function gradient(w: Float64Array, b: number, C: number, cw: [number, number]): number[] {
    const grad = [...w, 0];
    for (let i = 0; i < n; i++) {
      let z = b;
      for (let j = 0; j < d; j++) z += w[j] * X[i * d + j];
      const r = C * cw[y[i]] * (1 / (1 + Math.exp(-z)) - y[i]);
      for (let j = 0; j < d; j++) grad[j] += r * X[i * d + j];
      grad[d] += r;
    }
    return grad;
  }

  it('balanced class weights reach a stationary point of the weighted objective', () => {
    const m = trainLogReg(X, n, d, y, { C: 10, classWeight: 'balanced' });
    const cw: [number, number] = [n / (2 * 100), n / (2 * 300)];
    for (const gj of gradient(m.weights, m.bias, 10, cw)) expect(Math.abs(gj)).toBeLessThan(TOL * 10 * n);
  });

  it('explicit class weights are used as given', () => {
    const m = trainLogReg(X, n, d, y, { C: 1, classWeight: { 0: 3, 1: 0.5 } });
    for (const gj of gradient(m.weights, m.bias, 1, [3, 0.5])) expect(Math.abs(gj)).toBeLessThan(TOL * n);
  });

  it('standardised weights act on (x − mean)/std', () => {
    const m = trainLogReg(X, n, d, y, { C: 1, standardize: true });
    const { mean, std } = m.standardize!;
    // Map back to raw coordinates; the gradient there has the penalty on the standardised weights.
    const raw = Float64Array.from(m.weights, (w, j) => w / std[j]);
    const b = m.bias - raw.reduce((s, w, j) => s + w * mean[j], 0);
    const grad = gradient(raw, b, 1, [1, 1]);
    // At the optimum Σ rᵢ = 0 and uⱼ + Σ rᵢ (xᵢⱼ − mⱼ)/sⱼ = 0, so the raw data gradient is −uⱼ·sⱼ.
    for (let j = 0; j < d; j++) expect(Math.abs(grad[j] - raw[j] + m.weights[j] * std[j])).toBeLessThan(TOL * n);
    expect(Math.abs(grad[d])).toBeLessThan(TOL * n);
  });

  it('column stats use the population std and give a constant column std 1', () => {
    const s = columnStats([1, 5, 3, 5, 5, 5], 3, 2);
    expect(Array.from(s.mean)).toEqual([3, 5]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(s.std[1]).toBe(1);
  });

  it('sample weights', () => {
    expect(Array.from(sampleWeights([1, 1, 1, 0], 'balanced'))).toEqual([4 / 6, 4 / 6, 4 / 6, 2]);
    expect(Array.from(sampleWeights([1, 0], null))).toEqual([1, 1]);
  });

  it('softplus and sigmoid stay finite and accurate at extreme arguments', () => {
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(softplus(-40)).toBeCloseTo(Math.exp(-40), 30);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(-40) / Math.exp(-40)).toBeCloseTo(1, 12);
  });
});
