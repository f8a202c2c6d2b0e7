/**
 * A feature store seen whole (`wavprobe explore`): per layer a 2-D PCA of the pooled features and the Fisher ratio
 * of the two classes along their class-mean difference, and, for trained heads, along the head's own direction
 * with the head's accuracy on the store. Everything in float64, by hand.
 */
import { UsageError } from '../errors';
import { FeatureStore, LayerArray } from '../features/store';
import { featureSetName } from './feature-set';
import { Head, scoreStore } from './head';

/**
 * Eigen-decomposition of a symmetric [d, d] matrix: eigenvalues descending, eigenvectors as rows of `vectors`
 * [d, d]. Householder reduction to tridiagonal form, then the implicit QL method with Wilkinson-style shifts (the
 * EISPACK tred2/tql2 pair, as in Golub & Van Loan 8.3): O(d³) once rather than per sweep. Measured on the 2-core
 * Node 20 machine while it was loaded: d = 384 in 1.4 s against cyclic Jacobi's 10.2 s in the same run; d = 768
 * (a base model's layer) in 9–10 s.
 */
export function symmetricEigen(matrix: ArrayLike<number>, d: number): { values: number[]; vectors: Float64Array } {
  // V starts as A (row-major, V[i][j] = v[i·d + j]) and ends with the eigenvectors in its columns.
  const v = Float64Array.from(matrix);
  const diag = new Float64Array(d);
  const off = new Float64Array(d);
  // tridiagonalize leaves Qᵀ (QL rotates pairs of Q's columns: as rows of Qᵀ they are contiguous).
  tridiagonalize(v, diag, off, d);
  const qt = v;
  tridiagonalQl(qt, diag, off, d);
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => diag[j] - diag[i]);
  const vectors = new Float64Array(d * d);
  order.forEach((row, r) => vectors.set(qt.subarray(row * d, (row + 1) * d), r * d));
  return { values: order.map((i) => diag[i]), vectors };
}

/**
 * Householder tridiagonalisation of the symmetric matrix in `v`: on return `diag` and `off` (off[i] couples rows
 * i − 1 and i, off[0] = 0) hold the tridiagonal matrix T and `v` holds Qᵀ, where A = Q·T·Qᵀ. (EISPACK's tred2
 * walks columns; A is symmetric, so running it on the transposed indices walks rows, and leaves Qᵀ.)
 */
function tridiagonalize(v: Float64Array, diag: Float64Array, off: Float64Array, d: number): void {
  for (let j = 0; j < d; j++) diag[j] = v[j * d + (d - 1)];
  for (let i = d - 1; i > 0; i--) {
    // Reflect row i's first i entries (held in diag[0..i)) onto their last one.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(diag[k]);
    if (scale === 0) {
      off[i] = diag[i - 1];
      for (let j = 0; j < i; j++) {
        diag[j] = v[j * d + (i - 1)];
        v[j * d + i] = 0;
        v[i * d + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        diag[k] /= scale;
        h += diag[k] * diag[k];
      }
      let f = diag[i - 1];
      let g = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
      off[i] = scale * g;
      h -= f * g;
      diag[i - 1] = f - g;
      for (let j = 0; j < i; j++) off[j] = 0;
      // p = A·u / h into off[0..i), using the lower triangle.
      for (let j = 0; j < i; j++) {
        f = diag[j];
        v[i * d + j] = f;
        g = off[j] + v[j * d + j] * f;
        for (let k = j + 1; k < i; k++) {
          g += v[j * d + k] * diag[k];
          off[k] += v[j * d + k] * f;
        }
        off[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        off[j] /= h;
        f += off[j] * diag[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) off[j] -= hh * diag[j];
      // A ← A − u·qᵀ − q·uᵀ on the lower triangle.
      for (let j = 0; j < i; j++) {
        f = diag[j];
        g = off[j];
        for (let k = j; k < i; k++) v[j * d + k] -= f * off[k] + g * diag[k];
        diag[j] = v[j * d + (i - 1)];
        v[j * d + i] = 0;
      }
    }
    diag[i] = h;
  }
  // Accumulate the reflections into Q.
  for (let i = 0; i < d - 1; i++) {
    v[i * d + (d - 1)] = v[i * d + i];
    v[i * d + i] = 1;
    const h = diag[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) diag[k] = v[(i + 1) * d + k] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[(i + 1) * d + k] * v[j * d + k];
        for (let k = 0; k <= i; k++) v[j * d + k] -= g * diag[k];
      }
    }
    for (let k = 0; k <= i; k++) v[(i + 1) * d + k] = 0;
  }
  for (let j = 0; j < d; j++) {
    diag[j] = v[j * d + (d - 1)];
    v[j * d + (d - 1)] = 0;
  }
  v[(d - 1) * d + (d - 1)] = 1;
  off[0] = 0;
}

/**
 * Eigenvalues of the tridiagonal matrix (diag, off) into `diag`, by implicit QL steps with shifts, each rotation
 * applied to the rows of `qt` = Qᵀ too (so its rows become the eigenvectors). A sub-diagonal entry counts as zero below
 * 2^-52 times the largest |diag| + |off| seen.
 */
function tridiagonalQl(qt: Float64Array, diag: Float64Array, off: Float64Array, d: number): void {
  for (let i = 1; i < d; i++) off[i - 1] = off[i];
  if (d > 0) off[d - 1] = 0;
  let shift = 0;
  let tst = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < d; l++) {
    tst = Math.max(tst, Math.abs(diag[l]) + Math.abs(off[l]));
    let m = l;
    while (m < d && Math.abs(off[m]) > eps * tst) m++;
    if (m > l) {
      for (let iter = 0; Math.abs(off[l]) > eps * tst; iter++) {
        if (iter > 60) throw new Error(`symmetricEigen: no convergence at eigenvalue ${l} of ${d}`);
        // The shift: the eigenvalue of the leading 2×2 block closer to diag[l].
        let g = diag[l];
        let p = (diag[l + 1] - g) / (2 * off[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        diag[l] = off[l] / (p + r);
        diag[l + 1] = off[l] * (p + r);
        const dl1 = diag[l + 1];
        let h = g - diag[l];
        for (let i = l + 2; i < d; i++) diag[i] -= h;
        shift += h;
        // Givens rotations chase the bulge from m up to l.
        p = diag[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = off[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * off[i];
          h = c * p;
          r = Math.hypot(p, off[i]);
          off[i + 1] = s * r;
          s = off[i] / r;
          c = p / r;
          p = c * diag[i] - s * g;
          diag[i + 1] = h + s * (c * g + s * diag[i]);
          const [a, b] = [i * d, (i + 1) * d];
          for (let k = 0; k < d; k++) {
            h = qt[b + k];
            qt[b + k] = s * qt[a + k] + c * h;
            qt[a + k] = c * qt[a + k] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * off[l]) / dl1;
        off[l] = s * p;
        diag[l] = c * p;
      }
    }
    diag[l] += shift;
    off[l] = 0;
  }
}

export interface Pca {
  /** [k, d] principal directions, unit length. */
  components: Float64Array;
  /** Variance along each component, and its share of the total variance. */
  variances: number[];
  explained: number[];
  /** [n, k] the rows projected on the components (centred). */
  scores: Float64Array;
}

/** PCA of the rows of X [n, d]: covariance in float64, its eigenvectors by symmetricEigen. */
export function pca(x: LayerArray, k = 2): Pca {
  const { n, d, data } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n * d; i++) mean[i % d] += data[i] / n;
  const c = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) c[i] = data[i] - mean[i % d];
  const cov = new Float64Array(d * d); // [d, d] = XcᵀXc / (n − 1)
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let i = 0; i < d; i++) {
      const ci = c[o + i];
      if (ci === 0) continue;
      for (let j = i; j < d; j++) cov[i * d + j] += ci * c[o + j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[j * d + i] = cov[i * d + j] = cov[i * d + j] / Math.max(1, n - 1);
  const { values, vectors } = symmetricEigen(cov, d);
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  const components = vectors.slice(0, k * d);
  const scores = new Float64Array(n * k);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += c[r * d + i] * components[j * d + i];
      scores[r * k + j] = s;
    }
  const variances = values.slice(0, k);
  return { components, variances, explained: variances.map((v) => (total > 0 ? v / total : 0)), scores };
}

/**
 * Fisher ratio of the two classes along w = mean(spoof) − mean(bona fide): (m₁ − m₀)² / (s₁² + s₀²) of the
 * projections x·w. Scale-free in w; 0 when a class is empty or the means coincide.
 */
export function fisherRatio(x: Pick<LayerArray, 'n' | 'd'> & { data: ArrayLike<number> }, labels: ArrayLike<number>): number {
  const { n, d, data } = x;
  const means = [new Float64Array(d), new Float64Array(d)];
  const counts = [0, 0];
  for (let r = 0; r < n; r++) {
    counts[labels[r]]++;
    for (let i = 0; i < d; i++) means[labels[r]][i] += data[r * d + i];
  }
  if (!counts[0] || !counts[1]) return 0;
  const w = means[1].map((m, i) => m / counts[1] - means[0][i] / counts[0]);
  const proj = [[], []] as number[][];
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += data[r * d + i] * w[i];
    proj[labels[r]].push(s);
  }
  const [m0, m1] = proj.map((p) => p.reduce((a, b) => a + b, 0) / p.length);
  const [v0, v1] = proj.map((p, c) => p.reduce((a, b) => a + (b - [m0, m1][c]) ** 2, 0) / p.length);
  return v0 + v1 > 0 ? (m1 - m0) ** 2 / (v0 + v1) : m1 === m0 ? 0 : Infinity;
}

/** A trained head seen on a store: how far apart its logits put the classes, and how often it is right. */
export interface HeadView {
  /** Fisher ratio of the head's logits: the classes' separation along the head's direction (w/std on raw features). */
  fisher: number;
  /** Fraction of rows whose calibrated P(spoof) is on the side of 0.5 their label is on (ties count as wrong). */
  accuracy: number;
}

export interface LayerView {
  layer: number;
  pca: Pca;
  fisher: number;
  head?: HeadView;
}

/**
 * Fisher ratio and accuracy of `head` on the store in `storeDir`. The logit is affine in the features, so the
 * Fisher ratio of the logits is the Fisher ratio along the head's direction (scale-free).
 */
export function headView(head: Head, storeDir: string, opts: { allowModelMismatch?: boolean } = {}): HeadView {
  // Shown beside its layer: a head on several layers belongs to none of them.
  if (head.features.layers.length > 1)
    throw new UsageError(`a head is shown beside its layer; this one's features are ${featureSetName(head.features)}`);
  const { logits, probs, labels } = scoreStore(head, storeDir, opts);
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (probs[i] > 0.5 === (labels[i] === 1) && probs[i] !== 0.5) right++;
  return { fisher: fisherRatio({ data: logits, n: logits.length, d: 1 }, labels), accuracy: right / labels.length };
}

/** PCA and Fisher ratio of every layer read from the store; `heads` by layer add each layer's head view. */
export function exploreStore(store: FeatureStore, heads: Map<number, HeadView> = new Map()): LayerView[] {
  return [...store.layers].map(([layer, x]) => ({ layer, pca: pca(x), fisher: fisherRatio(x, store.labels), head: heads.get(layer) }));
}
