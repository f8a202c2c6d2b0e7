/**
 * Post-hoc calibration of a detector's logits on held-out data: temperature scaling, P = σ(logit / T), and Platt
 * scaling, P = σ(a·logit + b).
 */
import { minimize } from './lbfgs';
import { sigmoid, softplus } from './logreg';

/** Mean negative log-likelihood of labels y (1 = spoof) under P(spoof) = σ(β·logit + b). */
export function logitNll(logits: ArrayLike<number>, y: ArrayLike<number>, beta = 1, b = 0): number {
  let s = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = beta * logits[i] + b;
    s += softplus(y[i] ? -z : z);
  }
  return s / logits.length;
}

// The inverse temperature β = 1/T is searched in [BETA_MIN, BETA_MAX]: T from 1e-4 to 1e4.
const BETA_MIN = 1e-4;
const BETA_MAX = 1e4;

/**
 * The temperature T > 0 minimising the mean NLL of σ(logit / T). The NLL is convex in β = 1/T with
 * derivative mean((σ(β·l) − y)·l), increasing in β, so its root is found by Newton steps kept inside a shrinking
 * bracket (bisection when a step leaves it). When the optimum lies outside T ∈ [1e-4, 1e4] (scores in perfect
 * order, or ordered the wrong way round) the nearest bound is returned.
 */
export function fitTemperature(logits: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = logits.length;
  const derivs = (beta: number): [number, number] => {
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(beta * logits[i]);
      g += (p - y[i]) * logits[i];
      h += p * (1 - p) * logits[i] * logits[i];
    }
    return [g / n, h / n];
  };
  if (derivs(BETA_MIN)[0] >= 0) return 1 / BETA_MIN;
  if (derivs(BETA_MAX)[0] <= 0) return 1 / BETA_MAX;
  let lo = BETA_MIN;
  let hi = BETA_MAX;
  let beta = 1;
  for (let it = 0; it < 200; it++) {
    const [g, h] = derivs(beta);
    if (g === 0) break;
    if (g < 0) lo = beta;
    else hi = beta;
    let next = beta - g / h;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - beta) <= 1e-15 * beta) {
      beta = next;
      break;
    }
    beta = next;
  }
  return 1 / beta;
}

export interface PlattParams {
  a: number;
  b: number;
}

/**
 * Platt scaling: (a, b) minimising the NLL of σ(a·logit + b) against Platt's smoothed targets
 * (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2), which keep a separable calibration set from driving a to infinity.
 */
export function fitPlatt(logits: ArrayLike<number>, y: ArrayLike<number>): PlattParams {
  const n = logits.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i];
  const tPos = (pos + 1) / (pos + 2);
  const tNeg = 1 / (n - pos + 2);
  const res = minimize(
    (ab, grad) => {
      let f = 0;
      let ga = 0;
      let gb = 0;
      for (let i = 0; i < n; i++) {
        const z = ab[0] * logits[i] + ab[1];
        const t = y[i] ? tPos : tNeg;
        // −[t·log σ(z) + (1 − t)·log(1 − σ(z))] = t·softplus(−z) + (1 − t)·softplus(z)
        f += t * softplus(-z) + (1 - t) * softplus(z);
        const r = sigmoid(z) - t;
        ga += r * logits[i];
        gb += r;
      }
      grad[0] = ga / n;
      grad[1] = gb / n;
      return f / n;
    },
    [1, 0],
  );
  return { a: res.x[0], b: res.x[1] };
}
