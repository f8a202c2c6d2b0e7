/** Layer similarity: linear CKA (Kornblith et al., 2019) between hidden states, frames as samples. */
import { ForwardOutput } from './types';

/** Rows of `x` ([n, D] row-major) selected by `keep` (all when absent), centred over rows, in float64: [m, D]. */
export function centredRows(x: ArrayLike<number>, D: number, keep?: ArrayLike<number>): Float64Array {
  const n = x.length / D;
  const rows: number[] = [];
  for (let r = 0; r < n; r++) if (!keep || keep[r]) rows.push(r);
  const out = new Float64Array(rows.length * D);
  const mean = new Float64Array(D);
  rows.forEach((r, i) => {
    for (let d = 0; d < D; d++) {
      out[i * D + d] = x[r * D + d];
      mean[d] += x[r * D + d];
    }
  });
  for (let d = 0; d < D; d++) mean[d] /= rows.length;
  for (let i = 0; i < out.length; i++) out[i] -= mean[i % D];
  return out;
}

/**
 * ‖YᵀX‖²_F for centred X [n, Dx] and Y [n, Dy]: the [Dy, Dx] cross product four rows at a time, so each row of X
 * is read once per four columns of Y.
 */
function crossNormSq(x: Float64Array, Dx: number, y: Float64Array, Dy: number): number {
  const n = x.length / Dx;
  const r = [0, 1, 2, 3].map(() => new Float64Array(Dx)); // (YᵀX)[j..j+3, :]
  let s = 0;
  for (let j = 0; j < Dy; j += 4) {
    for (const row of r) row.fill(0);
    const [r0, r1, r2, r3] = r;
    for (let t = 0; t < n; t++) {
      const o = t * Dx;
      const p = t * Dy + j;
      // Past the last column of Y the weights are 0 and the rows stay 0.
      const y0 = y[p];
      const y1 = j + 1 < Dy ? y[p + 1] : 0;
      const y2 = j + 2 < Dy ? y[p + 2] : 0;
      const y3 = j + 3 < Dy ? y[p + 3] : 0;
      for (let i = 0; i < Dx; i++) {
        const v = x[o + i];
        r0[i] += y0 * v;
        r1[i] += y1 * v;
        r2[i] += y2 * v;
        r3[i] += y3 * v;
      }
    }
    for (const row of r) for (let i = 0; i < Dx; i++) s += row[i] * row[i];
  }
  return s;
}

/**
 * Linear CKA of centred X [n, Dx] and Y [n, Dy]: ‖YᵀX‖²_F / (‖XᵀX‖_F · ‖YᵀY‖_F). The feature-space form: D×D products
 * cost O(n·Dx·Dy) and no n×n Gram matrix is formed, so memory stays O(D) however long the input. 0 when either is constant.
 */
export function linearCka(x: Float64Array, Dx: number, y: Float64Array, Dy: number): number {
  const den = Math.sqrt(crossNormSq(x, Dx, x, Dx) * crossNormSq(y, Dy, y, Dy));
  return den > 0 ? crossNormSq(x, Dx, y, Dy) / den : 0;
}

/**
 * K = XXᵀ [n, n] of centred X [n, D]: double-centred, since X's columns are. The lower triangle, four rows of X
 * against row i at a time (each x_i value read once per four products), mirrored.
 */
function gram(x: Float64Array, D: number): Float64Array {
  const n = x.length / D;
  const k = new Float64Array(n * n);
  const put = (i: number, j: number, s: number) => (k[i * n + j] = k[j * n + i] = s);
  for (let i = 0; i < n; i++) {
    const o = i * D;
    let j = 0;
    for (; j + 3 <= i; j += 4) {
      const [p0, p1, p2, p3] = [j * D, (j + 1) * D, (j + 2) * D, (j + 3) * D];
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < D; d++) {
        const v = x[o + d];
        s0 += v * x[p0 + d];
        s1 += v * x[p1 + d];
        s2 += v * x[p2 + d];
        s3 += v * x[p3 + d];
      }
      put(i, j, s0);
      put(i, j + 1, s1);
      put(i, j + 2, s2);
      put(i, j + 3, s3);
    }
    for (; j <= i; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += x[o + d] * x[j * D + d];
      put(i, j, s);
    }
  }
  return k;
}

/** ⟨A, B⟩_F. For Grams of centred X and Y it is ‖YᵀX‖²_F: the two forms below compute the same sums. */
function frobeniusDot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The Gram form holds L+1 [n, n] matrices in float64: above this, the feature form (O(D) memory) is used. */
export const GRAM_BYTES = 512 * 2 ** 20;

/**
 * CKA between every pair of centred representations (`states[l]` [n, H[l]]), [L+1, L+1]. Two forms of the same
 * numbers: the feature form costs (L+1)(L+2)/2 products of n·H² multiply-adds; the Gram form (L+1) Grams of n²·H/2
 * and a dot product of n² per pair, so it wins unless n > (L+2)·H (the frames of ~20 s of audio: 1000 × 768,
 * 13 states, about 10× fewer operations). `form` picks one (for the specs); by default the cheaper that fits GRAM_BYTES.
 */
export function ckaMatrix(states: Float64Array[], H: number[], form?: 'gram' | 'feature'): number[][] {
  const L1 = states.length;
  const n = L1 ? states[0].length / H[0] : 0;
  const Hmax = Math.max(...H);
  const gramFits = L1 * n * n * 8 <= GRAM_BYTES;
  const useGram = form ? form === 'gram' : gramFits && (n * n * Hmax) / 2 < ((L1 + 1) / 2) * n * Hmax * Hmax;
  const m = states.map(() => new Array<number>(L1).fill(1));
  if (useGram) {
    const K = states.map((x, l) => gram(x, H[l]));
    const self = K.map((k) => Math.sqrt(frobeniusDot(k, k)));
    for (let a = 0; a < L1; a++)
      for (let b = a + 1; b < L1; b++) {
        const den = self[a] * self[b];
        m[a][b] = m[b][a] = den > 0 ? frobeniusDot(K[a], K[b]) / den : 0;
      }
    return m;
  }
  const self = states.map((x, l) => Math.sqrt(crossNormSq(x, H[l], x, H[l]))); // ‖XᵀX‖_F
  for (let a = 0; a < L1; a++)
    for (let b = a + 1; b < L1; b++) {
      const den = self[a] * self[b];
      m[a][b] = m[b][a] = den > 0 ? crossNormSq(states[a], H[a], states[b], H[b]) / den : 0;
    }
  return m;
}

/**
 * CKA between every pair of hidden states, [L+1, L+1]: the valid frames of all rows pooled (all frames without a
 * mask). ckaMatrix picks the cheaper form: measured on random states of 1000 frames × 768 (20 s of audio, a base
 * model's 13 states) on the 2-core machine, 8.7 s in the Gram form against ~180 s in the feature form, same run.
 */
export function layerSimilarity(out: ForwardOutput): number[][] {
  const mask = out.frameMask?.dataSync();
  const states = out.hiddenStates.map((h) => centredRows(h.dataSync(), h.shape[2], mask)); // each [n, H]
  return ckaMatrix(
    states,
    out.hiddenStates.map((h) => h.shape[2]),
  );
}
