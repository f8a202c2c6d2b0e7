/**
 * L2-regularised logistic regression with exactly scikit-learn's objective (LogisticRegression, solver lbfgs):
 *   0.5·‖w‖² + C·Σᵢ cᵢ·log(1 + exp(−sᵢ·zᵢ)),   zᵢ = xᵢ·w + b,   sᵢ = ±1,   b unpenalised,
 * cᵢ the class weight of row i, x standardised first (training mean, population std) when asked.
 */
import { minimize, MinimizeOptions, StopReason } from './lbfgs';

export type ClassWeight = 'balanced' | { 0: number; 1: number };

export interface LogRegOptions {
  C?: number;
  standardize?: boolean;
  classWeight?: ClassWeight | null;
  maxIterations?: number;
  onIteration?: MinimizeOptions['onIteration'];
}

export interface Standardization {
  mean: Float64Array;
  std: Float64Array;
}

export interface LogRegModel {
  /** [d], applied to standardised features when `standardize` is set */
  weights: Float64Array;
  bias: number;
  standardize: Standardization | null;
  /** The objective above at the solution (with the class weights). */
  objective: number;
  iterations: number;
  converged: boolean;
  reason: StopReason;
}

/** log(1 + exp(t)) without overflow or loss of precision. */
export function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

export function sigmoid(t: number): number {
  if (t >= 0) return 1 / (1 + Math.exp(-t));
  const e = Math.exp(t);
  return e / (1 + e);
}

/** Column mean and population standard deviation of X [n, d] in float64; a constant column gets std 1 (as sklearn). */
export function columnStats(X: ArrayLike<number>, n: number, d: number): Standardization {
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const c = X[i * d + j] - mean[j];
      std[j] += c * c;
    }
  }
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] / n) || 1;
  return { mean, std };
}

/** Per-row weights from a class-weight option; 'balanced' is n / (2·n_class), as sklearn. */
export function sampleWeights(y: ArrayLike<number>, classWeight: ClassWeight | null | undefined): Float64Array {
  let w: { 0: number; 1: number } = { 0: 1, 1: 1 };
  if (classWeight === 'balanced') {
    let pos = 0;
    for (let i = 0; i < y.length; i++) pos += y[i];
    w = { 0: y.length / (2 * (y.length - pos)), 1: y.length / (2 * pos) };
  } else if (classWeight) w = classWeight;
  return Float64Array.from(y as ArrayLike<number>, (v) => (v ? w[1] : w[0]));
}

/**
 * Trains on X [n, d] (row-major) and labels y (1 = spoof). Callers check that both classes are present and the
 * values are finite.
 *
 * The solver works in standardised coordinates whether or not the model is standardised, an exact change of
 * variables that leaves the objective unchanged: z = Σⱼ uⱼ·(xⱼ − mⱼ)/sⱼ + c. With `standardize` the model is
 * (w, b) = (u, c) and the penalty 0.5‖u‖²; without it w = u/s, b = c − w·m and the penalty is 0.5Σ(uⱼ/sⱼ)².
 * Centring and scaling condition the data term, which is what lets L-BFGS reach the optimum on raw features.
 */
export function trainLogReg(X: Float32Array | Float64Array, n: number, d: number, y: ArrayLike<number>, opts: LogRegOptions = {}): LogRegModel {
  const C = opts.C ?? 1;
  const { mean, std } = columnStats(X, n, d);
  const penalty = Float64Array.from(std, (s) => (opts.standardize ? 1 : 1 / (s * s))); // [d]
  const cw = sampleWeights(y, opts.classWeight); // [n]
  const a = new Float64Array(d); // u / s
  const r = new Float64Array(n); // ∂f/∂zᵢ

  // theta = [u (d), c]
  const fg = (theta: Float64Array, grad: Float64Array): number => {
    const c = theta[d];
    let f = 0;
    for (let j = 0; j < d; j++) {
      a[j] = theta[j] / std[j];
      f += 0.5 * penalty[j] * theta[j] * theta[j];
    }
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let z = c;
      const row = i * d;
      for (let j = 0; j < d; j++) z += a[j] * (X[row + j] - mean[j]);
      // y=1: loss softplus(−z), ∂/∂z = −σ(−z); y=0: softplus(z), σ(z). Written so no 1 − σ cancels.
      const t = y[i] ? -z : z;
      loss += cw[i] * softplus(t);
      r[i] = C * cw[i] * (y[i] ? -sigmoid(t) : sigmoid(t));
    }
    f += C * loss;
    grad.fill(0);
    let gc = 0;
    for (let i = 0; i < n; i++) {
      const ri = r[i];
      if (ri === 0) continue;
      gc += ri;
      const row = i * d;
      for (let j = 0; j < d; j++) grad[j] += ri * (X[row + j] - mean[j]);
    }
    for (let j = 0; j < d; j++) grad[j] = grad[j] / std[j] + penalty[j] * theta[j];
    grad[d] = gc;
    return f;
  };

  const res = minimize(fg, new Float64Array(d + 1), { maxIterations: opts.maxIterations, onIteration: opts.onIteration });
  const u = res.x.subarray(0, d);
  let weights: Float64Array;
  let bias: number;
  if (opts.standardize) {
    weights = Float64Array.from(u);
    bias = res.x[d];
  } else {
    weights = Float64Array.from(u, (v, j) => v / std[j]);
    bias = res.x[d] - weights.reduce((s, w, j) => s + w * mean[j], 0);
  }
  return {
    weights,
    bias,
    standardize: opts.standardize ? { mean, std } : null,
    objective: res.f,
    iterations: res.iterations,
    converged: res.converged,
    reason: res.reason,
  };
}
