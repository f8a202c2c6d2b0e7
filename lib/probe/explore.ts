/**
 * A feature store seen whole (`wavprobe explore`): per layer a 2-D PCA of the pooled features and the Fisher ratio
 * of the two classes along their class-mean difference, and, for trained heads, along the head's own direction
 * with the head's accuracy on the store. Everything in float64, by hand.
 */
import { FeatureStore, LayerArray } from '../features/store';
import { Head, scoreStore } from './head';

/**
 * Eigen-decomposition of a symmetric [d, d] matrix by cyclic Jacobi rotations: eigenvalues descending, eigenvectors
 * as rows of `vectors` [d, d]. O(d³) per sweep, a handful of sweeps: 0.9 s for d = 256, 6 s for d = 512 on one core
 * of a 2-core Node 20 machine (so about 20 s a layer for base models, 50 s for large ones; `--layer` picks one).
 */
export function symmetricEigen(matrix: ArrayLike<number>, d: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d); // rows are the eigenvectors (Vᵀ, so that rotations touch contiguous rows)
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < d; p++) {
      diag += a[p * d + p] ** 2;
      for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p, q] (Golub & Van Loan 8.5.2), the smaller angle.
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ·A·J: rows p and q, then columns p and q by symmetry, then the 2×2 block; Vᵀ ← Jᵀ·Vᵀ.
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          a[k * d + p] = a[p * d + k];
          a[k * d + q] = a[q * d + k];
        }
        a[p * d + p] = c * c * app - 2 * s * c * apq + s * s * aqq;
        a[q * d + q] = s * s * app + 2 * s * c * apq + c * c * aqq;
        a[p * d + q] = a[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vpk = v[p * d + k];
          const vqk = v[q * d + k];
          v[p * d + k] = c * vpk - s * vqk;
          v[q * d + k] = s * vpk + c * vqk;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => a[j * d + j] - a[i * d + i]);
  const vectors = new Float64Array(d * d);
  order.forEach((row, r) => vectors.set(v.subarray(row * d, (row + 1) * d), r * d));
  return { values: order.map((i) => a[i * d + i]), vectors };
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
  const { logits, probs, labels } = scoreStore(head, storeDir, opts);
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (probs[i] > 0.5 === (labels[i] === 1) && probs[i] !== 0.5) right++;
  return { fisher: fisherRatio({ data: logits, n: logits.length, d: 1 }, labels), accuracy: right / labels.length };
}

/** PCA and Fisher ratio of every layer read from the store; `heads` by layer add each layer's head view. */
export function exploreStore(store: FeatureStore, heads: Map<number, HeadView> = new Map()): LayerView[] {
  return [...store.layers].map(([layer, x]) => ({ layer, pca: pca(x), fisher: fisherRatio(x, store.labels), head: heads.get(layer) }));
}
