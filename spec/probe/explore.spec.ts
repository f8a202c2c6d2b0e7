import * as fs from 'fs';
import * as path from 'path';
import { readStore } from '../../lib/features/store';
import { fisherRatio, headView, pca, symmetricEigen } from '../../lib/probe/explore';
import { trainHead, writeHead } from '../../lib/probe/head';
import { runCli } from '../helpers/cli';
import { gaussian, gaussianStore, tmpDir } from '../helpers/probe';

/**
 * Reference top-k principal directions, independent of lib/probe/explore.ts: power iteration on XcᵀXc applied as
 * Xcᵀ(Xc·v) (no covariance matrix), deflating each found direction; eigenvalue = ‖Xc v‖² / (n − 1).
 */
function powerPca(data: ArrayLike<number>, n: number, d: number, k: number): { vectors: number[][]; values: number[] } {
  const mean = Array.from({ length: d }, (_, j) => Array.from({ length: n }, (_, r) => data[r * d + j]).reduce((a, b) => a + b, 0) / n);
  const rows = Array.from({ length: n }, (_, r) => Array.from({ length: d }, (_, j) => data[r * d + j] - mean[j]));
  const apply = (v: number[]) => {
    const out = new Array<number>(d).fill(0);
    for (const row of rows) {
      const dot = row.reduce((s, x, j) => s + x * v[j], 0);
      row.forEach((x, j) => (out[j] += x * dot));
    }
    return out;
  };
  const vectors: number[][] = [];
  const values: number[] = [];
  const g = gaussian(5);
  for (let c = 0; c < k; c++) {
    let v = Array.from({ length: d }, () => g());
    for (let it = 0; it < 3000; it++) {
      let w = apply(v);
      for (const u of vectors) {
        const dot = u.reduce((s, x, j) => s + x * w[j], 0);
        w = w.map((x, j) => x - dot * u[j]);
      }
      const norm = Math.hypot(...w);
      v = w.map((x) => x / norm);
    }
    vectors.push(v);
    values.push(Math.hypot(...rows.map((row) => row.reduce((s, x, j) => s + x * v[j], 0))) ** 2 / (n - 1));
  }
  return { vectors, values };
}

describe('explore: PCA and separability of a store', () => {
  it('symmetricEigen: A·v = λ·v for every pair, eigenvalues descending', () => {
    const g = gaussian(3);
    const d = 7;
    const b = Array.from({ length: d * d }, () => g());
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = b[i * d + j] + b[j * d + i];
    const { values, vectors } = symmetricEigen(a, d);
    let worst = 0;
    for (let r = 0; r < d; r++)
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let j = 0; j < d; j++) av += a[i * d + j] * vectors[r * d + j];
        worst = Math.max(worst, Math.abs(av - values[r] * vectors[r * d + i]));
      }
    expect(worst).toBeLessThan(1e-10);
    for (let r = 1; r < d; r++) expect(values[r]).toBeLessThanOrEqual(values[r - 1]);
  });

  it('symmetricEigen: known spectrum with repeated and zero eigenvalues (d = 60): values, A·v = λ·v, orthonormal vectors', () => {
    const g = gaussian(11);
    const d = 60;
    // Q from Gram–Schmidt on random vectors; A = Q·diag(λ)·Qᵀ with λ = 5 (×10), 2 (×10), 0 (×20) and 20 distinct values.
    const q: number[][] = [];
    while (q.length < d) {
      let x = Array.from({ length: d }, () => g());
      for (const u of q) {
        const dot = u.reduce((s, a, j) => s + a * x[j], 0);
        x = x.map((a, j) => a - dot * u[j]);
      }
      const norm = Math.hypot(...x);
      q.push(x.map((a) => a / norm));
    }
    const lambda = Array.from({ length: d }, (_, i) => (i < 10 ? 5 : i < 20 ? 2 : i < 40 ? 0 : -3 + 0.37 * (i - 40)));
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = q.reduce((s, u, k) => s + lambda[k] * u[i] * u[j], 0);
    const { values, vectors } = symmetricEigen(a, d);
    const expected = [...lambda].sort((x, y) => y - x);
    expect(Math.max(...values.map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-10);
    let residual = 0;
    let orthogonality = 0;
    for (let r = 0; r < d; r++) {
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let j = 0; j < d; j++) av += a[i * d + j] * vectors[r * d + j];
        residual = Math.max(residual, Math.abs(av - values[r] * vectors[r * d + i]));
      }
      for (let t = 0; t < d; t++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += vectors[r * d + j] * vectors[t * d + j];
        orthogonality = Math.max(orthogonality, Math.abs(dot - (r === t ? 1 : 0)));
      }
    }
    expect(residual).toBeLessThan(1e-10);
    expect(orthogonality).toBeLessThan(1e-10);
  });

  it('pca: the first two components and variances equal power iteration on XᵀX (up to sign) within 1e-5', () => {
    const g = gaussian(8);
    const n = 200;
    const d = 12;
    // Distinct variances per direction so the components are well defined.
    const data = Float32Array.from({ length: n * d }, (_, i) => (d - (i % d)) * g() + (i % d === 0 ? 0.5 * g() : 0));
    const got = pca({ data, n, d }, 2);
    const ref = powerPca(data, n, d, 2);
    for (let c = 0; c < 2; c++) {
      const v = got.components.subarray(c * d, (c + 1) * d);
      const sign = Math.sign(v.reduce((s, x, j) => s + x * ref.vectors[c][j], 0));
      const err = Math.max(...Array.from(v, (x, j) => Math.abs(x - sign * ref.vectors[c][j])));
      expect(err).toBeLessThan(1e-5);
      expect(Math.abs(got.variances[c] - ref.values[c]) / ref.values[c]).toBeLessThan(1e-5);
    }
    expect(got.explained[0]).toBeGreaterThan(got.explained[1]);
  });

  it('fisherRatio: the class-mean difference direction, computed directly', () => {
    const dir = tmpDir();
    const { X, y } = gaussianStore(dir, { n: 120, nSpoof: 50, d: 4, shift: 1 });
    const m = [0, 1].map((c) =>
      Array.from(
        { length: 4 },
        (_, j) => Array.from(y).reduce((s, v, r) => s + (v === c ? X.data[r * 4 + j] : 0), 0) / Array.from(y).filter((v) => v === c).length,
      ),
    );
    const w = m[1].map((v, j) => v - m[0][j]);
    const z = Array.from(y, (_, r) => w.reduce((s, wj, j) => s + wj * X.data[r * 4 + j], 0));
    const stats = [0, 1].map((c) => {
      const zc = z.filter((_, r) => y[r] === c);
      const mean = zc.reduce((a, b) => a + b, 0) / zc.length;
      return { mean, v: zc.reduce((a, b) => a + (b - mean) ** 2, 0) / zc.length };
    });
    const expected = (stats[1].mean - stats[0].mean) ** 2 / (stats[0].v + stats[1].v);
    expect(Math.abs(fisherRatio(X, y) - expected) / expected).toBeLessThan(1e-9);
    expect(fisherRatio(X, y)).toBeGreaterThan(
      fisherRatio(
        readStore(dir).layers.get(0)!,
        new Uint8Array(120).map((_, i) => i % 2),
      ),
    );
  });

  it('wavprobe explore --features STORE --out DIR: per-layer Fisher ratio and PCA plots (valid PNG + SVG)', async () => {
    const dir = tmpDir();
    gaussianStore(dir);
    const out = path.join(tmpDir(), 'explore');
    const r = await runCli(['explore', '--features', dir, '--out', out, '--json']);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.layers.map((l: { layer: number }) => l.layer)).toEqual([0, 1]);
    const store = readStore(dir);
    for (const l of j.layers) expect(l.fisher).toBeCloseTo(fisherRatio(store.layers.get(l.layer)!, store.labels), 10);
    expect(j.plots).toEqual(['pca', 'separability'].flatMap((n) => [path.join(out, `${n}.png`), path.join(out, `${n}.svg`)]));
    for (const f of j.plots) {
      const b = fs.readFileSync(f);
      if (f.endsWith('.png')) {
        expect(b.subarray(1, 4).toString()).toBe('PNG');
        expect(b.subarray(12, 16).toString()).toBe('IHDR');
        expect(b.readUInt32BE(16)).toBeGreaterThan(300);
      } else expect(b.toString()).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    }
    const one = await runCli(['explore', '--features', dir, '--layer', '1', '--out', out, '--json']);
    expect(JSON.parse(one.stdout).layers.map((l: { layer: number }) => l.layer)).toEqual([1]);
  });

  it("headView: Fisher ratio along the head's direction and its accuracy, computed by hand from the head file", () => {
    const dir = tmpDir();
    const { X, y } = gaussianStore(dir, { n: 160, nSpoof: 70, d: 5, shift: 0.5, seed: 4 });
    const head = trainHead(dir, 1, { standardize: true });
    // The head file's formula, written out: logit = Σ w_j (x_j − m_j) / s_j + b, P = σ(logit / T).
    const logit = Array.from(y, (_, r) =>
      head.weights.reduce((s, w, j) => s + (w * (X.data[r * 5 + j] - head.standardize!.mean[j])) / head.standardize!.std[j], head.bias),
    );
    const right = logit.filter((z, r) => 1 / (1 + Math.exp(-z / head.temperature)) > 0.5 === (y[r] === 1)).length;
    const stats = [0, 1].map((c) => {
      const zc = logit.filter((_, r) => y[r] === c);
      const mean = zc.reduce((a, b) => a + b, 0) / zc.length;
      return { mean, v: zc.reduce((a, b) => a + (b - mean) ** 2, 0) / zc.length };
    });
    const fisher = (stats[1].mean - stats[0].mean) ** 2 / (stats[0].v + stats[1].v);
    const view = headView(head, dir);
    expect(view.accuracy).toBe(right / 160);
    expect(Math.abs(view.fisher - fisher) / fisher).toBeLessThan(1e-9);
    // A logistic regression's direction separates the training classes at least as well as the class means' difference.
    expect(view.fisher).toBeGreaterThan(0.9 * fisherRatio(X, y));
  });

  it('explore --color-by COLUMN --heads DIR: pca_<column> plots, head Fisher ratio and accuracy per layer; an unknown column is refused', async () => {
    const dir = tmpDir();
    gaussianStore(dir);
    const heads = path.join(tmpDir(), 'heads');
    fs.mkdirSync(heads);
    for (const layer of [0, 1]) writeHead(path.join(heads, `layer_0${layer}.json`), trainHead(dir, layer));
    const out = path.join(tmpDir(), 'explore');
    const r = await runCli(['explore', '--features', dir, '--out', out, '--color-by', 'speaker', '--heads', heads, '--json']);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const l of j.layers) {
      const v = headView(JSON.parse(fs.readFileSync(path.join(heads, `layer_0${l.layer}.json`), 'utf8')), dir);
      expect(l.head).toEqual(v);
      expect(l.head.accuracy).toBeGreaterThan(0.5);
    }
    expect(j.plots).toEqual(['pca', 'pca_speaker', 'separability'].flatMap((n) => [path.join(out, `${n}.png`), path.join(out, `${n}.svg`)]));
    const svg = fs.readFileSync(path.join(out, 'pca_speaker.svg'), 'utf8');
    for (const s of ['s0', 's6', 'speaker']) expect(svg).toContain(s);
    expect(fs.readFileSync(path.join(out, 'separability.svg'), 'utf8')).toContain('head accuracy');
    const bad = await runCli(['explore', '--features', dir, '--out', out, '--color-by', 'attack']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/--color-by attack: .*index\.csv has no such column \(it has id, label, speaker\)/);
  });
});
