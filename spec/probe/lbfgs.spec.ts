import { minimize, ObjectiveFn } from '../../lib/probe/lbfgs';

/** The 2-D Rosenbrock function and its gradient; minimum 0 at (1, 1). */
const rosenbrock: ObjectiveFn = (x, g) => {
  g[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]);
  g[1] = 200 * (x[1] - x[0] ** 2);
  return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
};

describe('L-BFGS', () => {
  it('finds the minimum of the 2-D Rosenbrock function from (-1.2, 1)', () => {
    const res = minimize(rosenbrock, [-1.2, 1]);
    expect(res.converged).toBe(true);
    expect(res.x[0]).toBeCloseTo(1, 8);
    expect(res.x[1]).toBeCloseTo(1, 8);
    expect(res.f).toBeLessThan(1e-16);
  });

  it('finds the minimum of the 20-D extended Rosenbrock function', () => {
    const n = 20;
    const res = minimize(
      (x, g) => {
        g.fill(0);
        let f = 0;
        for (let i = 0; i < n - 1; i++) {
          const a = x[i + 1] - x[i] ** 2;
          f += 100 * a * a + (1 - x[i]) ** 2;
          g[i] += -400 * x[i] * a - 2 * (1 - x[i]);
          g[i + 1] += 200 * a;
        }
        return f;
      },
      Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1.2)),
    );
    expect(res.converged).toBe(true);
    for (const v of res.x) expect(v).toBeCloseTo(1, 6);
  });

  it('solves a badly conditioned quadratic (condition number 1e5) to its known minimiser', () => {
    // f = 0.5 Σ hᵢ (xᵢ − cᵢ)², h from 1 to 1e5
    const n = 30;
    const h = Array.from({ length: n }, (_, i) => 10 ** ((5 * i) / (n - 1)));
    const c = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    const res = minimize(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < n; i++) {
          g[i] = h[i] * (x[i] - c[i]);
          f += 0.5 * h[i] * (x[i] - c[i]) ** 2;
        }
        return f;
      },
      new Float64Array(n),
      { gtol: 1e-13, ftol: 0 },
    );
    expect(res.reason).toBe('gtol');
    for (let i = 0; i < n; i++) expect(Math.abs(res.x[i] - c[i])).toBeLessThan(1e-12);
  });

  it('stops at the iteration cap and says so', () => {
    const res = minimize(rosenbrock, [-1.2, 1], { maxIterations: 3 });
    expect(res).toMatchObject({ iterations: 3, converged: false, reason: 'maxIterations' });
  });

  it('returns at once from a stationary point', () => {
    const res = minimize((x, g) => ((g[0] = 2 * x[0]), x[0] ** 2), [0]);
    expect(res).toMatchObject({ iterations: 0, reason: 'gtol', f: 0 });
  });

  it('rejects a starting point where the objective is not finite', () => {
    expect(() => minimize((x, g) => ((g[0] = 0), Math.log(x[0])), [-1])).toThrow(/NaN at the starting point/);
  });
});
