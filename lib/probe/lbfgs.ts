/**
 * L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4/7.5) in float64, with the strong-Wolfe line
 * search of Alg. 3.5/3.6 (bracketing, then zoom by safeguarded cubic interpolation).
 */

/** Objective and gradient: writes ∇f(x) into `grad` and returns f(x). */
export type ObjectiveFn = (x: Float64Array, grad: Float64Array) => number;

export interface MinimizeOptions {
  /** Correction pairs kept (default 10). */
  memory?: number;
  /** Iteration cap (default 15000). */
  maxIterations?: number;
  /** Stop when max|∇f| ≤ gtol·max(1, |f|) (default 1e-10). */
  gtol?: number;
  /** Stop when (f_prev − f) ≤ ftol·max(|f_prev|, |f|, 1) (default 1e-15; 0 disables). */
  ftol?: number;
  /** Sufficient-decrease and curvature constants of the strong Wolfe conditions (default 1e-4, 0.9). */
  c1?: number;
  c2?: number;
  /** Function evaluations allowed per line search (default 40). */
  maxLineSearch?: number;
  /** Called after each iteration (for progress bars). */
  onIteration?: (iteration: number, f: number, gradNorm: number) => void;
}

export type StopReason = 'gtol' | 'ftol' | 'maxIterations' | 'lineSearch';

export interface MinimizeResult {
  x: Float64Array;
  f: number;
  /** max|∇f| at x */
  gradNorm: number;
  iterations: number;
  evaluations: number;
  /** True when a tolerance was met (gtol or ftol). */
  converged: boolean;
  reason: StopReason;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

const maxAbs = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

/** Minimiser of the cubic through (a, fa, da) and (b, fb, db) (N&W eq. 3.59), or NaN when it has none. */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

interface Trial {
  alpha: number;
  f: number;
  /** directional derivative φ'(α) = ∇f(x + αd)·d */
  df: number;
}

/**
 * Strong-Wolfe line search along d from x (f0 = f(x), df0 = ∇f(x)·d < 0). Evaluates trial points into xt/gt and
 * returns the accepted step with xt/gt holding it, or null when no step decreasing f was found.
 */
function lineSearch(
  fg: ObjectiveFn,
  x: Float64Array,
  d: Float64Array,
  f0: number,
  df0: number,
  alpha1: number,
  xt: Float64Array,
  gt: Float64Array,
  o: { c1: number; c2: number; maxEvals: number },
  counter: { evaluations: number },
): Trial | null {
  let last = NaN;
  const phi = (alpha: number): Trial => {
    for (let i = 0; i < x.length; i++) xt[i] = x[i] + alpha * d[i];
    const f = fg(xt, gt);
    counter.evaluations++;
    last = alpha;
    return { alpha, f, df: dot(gt, d) };
  };
  // Too high: fails sufficient decrease (a non-finite f counts as too high).
  const tooHigh = (t: Trial) => !(t.f <= f0 + o.c1 * t.alpha * df0);
  const curvatureOk = (t: Trial) => Math.abs(t.df) <= -o.c2 * df0;
  const accept = (t: Trial): Trial => (last === t.alpha ? t : phi(t.alpha));
  let evals = 0;

  // Alg. 3.6: lo satisfies sufficient decrease with the lowest f so far; the minimiser lies between lo and hi.
  const zoom = (lo: Trial, hi: Trial): Trial | null => {
    while (evals < o.maxEvals) {
      const lower = Math.min(lo.alpha, hi.alpha);
      const width = Math.abs(hi.alpha - lo.alpha);
      if (width <= 1e-16 * Math.max(lo.alpha, hi.alpha)) break;
      let a = Number.isFinite(hi.f) ? cubicMin(lo.alpha, lo.f, lo.df, hi.alpha, hi.f, hi.df) : NaN;
      if (!(a >= lower + 0.1 * width && a <= lower + 0.9 * width)) a = (lo.alpha + hi.alpha) / 2;
      const t = phi(a);
      evals++;
      if (tooHigh(t) || t.f >= lo.f) hi = t;
      else {
        if (curvatureOk(t)) return t;
        if (t.df * (hi.alpha - lo.alpha) >= 0) hi = lo;
        lo = t;
      }
    }
    // Out of evaluations or interval: settle for sufficient decrease alone if lo has it.
    return lo.alpha > 0 && lo.f < f0 ? accept(lo) : null;
  };

  // Alg. 3.5: grow the step until the minimiser is bracketed.
  let prev: Trial = { alpha: 0, f: f0, df: df0 };
  let alpha = alpha1;
  while (evals < o.maxEvals) {
    const t = phi(alpha);
    evals++;
    if (tooHigh(t) || (prev.alpha > 0 && t.f >= prev.f)) return zoom(prev, t);
    if (curvatureOk(t)) return t;
    if (t.df >= 0) return zoom(t, prev);
    prev = t;
    alpha *= 2;
  }
  return prev.alpha > 0 ? accept(prev) : null;
}

/** Minimises a smooth function of x ∈ ℝⁿ from x0. */
export function minimize(fg: ObjectiveFn, x0: ArrayLike<number>, opts: MinimizeOptions = {}): MinimizeResult {
  const m = opts.memory ?? 10;
  const maxIterations = opts.maxIterations ?? 15000;
  const gtol = opts.gtol ?? 1e-10;
  const ftol = opts.ftol ?? 1e-15;
  const lsOpts = { c1: opts.c1 ?? 1e-4, c2: opts.c2 ?? 0.9, maxEvals: opts.maxLineSearch ?? 40 };
  const n = x0.length;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let xt = new Float64Array(n);
  let gt = new Float64Array(n);
  const d = new Float64Array(n);
  // Correction pairs in a ring: s = x_{k+1} − x_k, y = g_{k+1} − g_k, rho = 1/(y·s).
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alphaK = new Float64Array(m);
  let stored = 0;
  let head = 0; // next ring slot to write

  const counter = { evaluations: 0 };
  let f = fg(x, g);
  counter.evaluations++;
  if (!Number.isFinite(f)) throw new RangeError(`objective is ${f} at the starting point`);
  let gnorm = maxAbs(g);
  const done = (iterations: number, reason: StopReason): MinimizeResult => ({
    x,
    f,
    gradNorm: gnorm,
    iterations,
    evaluations: counter.evaluations,
    converged: reason === 'gtol' || reason === 'ftol',
    reason,
  });
  if (gnorm <= gtol * Math.max(1, Math.abs(f))) return done(0, 'gtol');

  for (let it = 1; it <= maxIterations; it++) {
    // Two-loop recursion: d = −H g, H₀ = γI with γ = s·y / y·y of the newest pair.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = 0; k < stored; k++) {
      const j = (head - 1 - k + m) % m;
      alphaK[j] = rho[j] * dot(S[j], d);
      for (let i = 0; i < n; i++) d[i] -= alphaK[j] * Y[j][i];
    }
    if (stored > 0) {
      const j = (head - 1 + m) % m;
      const gamma = dot(S[j], Y[j]) / dot(Y[j], Y[j]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let k = stored - 1; k >= 0; k--) {
      const j = (head - 1 - k + m) % m;
      const beta = rho[j] * dot(Y[j], d);
      for (let i = 0; i < n; i++) d[i] += (alphaK[j] - beta) * S[j][i];
    }
    let df0 = dot(d, g);
    if (!(df0 < 0)) {
      // Not a descent direction (rounding in the memory): restart from steepest descent.
      stored = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      df0 = -dot(g, g);
    }
    // Without curvature information, a first step of unit length.
    const alpha1 = stored === 0 ? Math.min(1, 1 / Math.sqrt(-df0)) : 1;
    let trial = lineSearch(fg, x, d, f, df0, alpha1, xt, gt, lsOpts, counter);
    if (!trial && stored > 0) {
      // Retry once from steepest descent with the memory dropped.
      stored = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      df0 = -dot(g, g);
      trial = lineSearch(fg, x, d, f, df0, Math.min(1, 1 / Math.sqrt(-df0)), xt, gt, lsOpts, counter);
    }
    if (!trial) return done(it - 1, 'lineSearch');

    const s = S[head];
    const yv = Y[head];
    for (let i = 0; i < n; i++) {
      s[i] = xt[i] - x[i];
      yv[i] = gt[i] - g[i];
    }
    const sy = dot(s, yv);
    // Keep the pair only with positive curvature, so H stays positive definite.
    if (sy > 1e-16 * dot(yv, yv)) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(stored + 1, m);
    }
    [x, xt] = [xt, x];
    [g, gt] = [gt, g];
    const fPrev = f;
    f = trial.f;
    gnorm = maxAbs(g);
    opts.onIteration?.(it, f, gnorm);
    if (gnorm <= gtol * Math.max(1, Math.abs(f))) return done(it, 'gtol');
    if (fPrev - f <= ftol * Math.max(Math.abs(fPrev), Math.abs(f), 1)) return done(it, 'ftol');
  }
  return done(maxIterations, 'maxIterations');
}
