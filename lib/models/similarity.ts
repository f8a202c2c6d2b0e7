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
 * CKA between every pair of hidden states, [L+1, L+1]: the valid frames of all rows pooled (all frames without a
 * mask). Cost (L+1)(L+2)/2 products of n·H² multiply-adds, about 0.7 s each for n = 1000, H = 768 on one core of a
 * 2-core Node 20 machine: about 65 s per 1000 frames (20 s of audio) for a base model, 7 min for a large one.
 */
export function layerSimilarity(out: ForwardOutput): number[][] {
  const mask = out.frameMask?.dataSync();
  const states = out.hiddenStates.map((h) => centredRows(h.dataSync(), h.shape[2], mask)); // each [n, H]
  const H = out.hiddenStates.map((h) => h.shape[2]);
  const self = states.map((x, l) => Math.sqrt(crossNormSq(x, H[l], x, H[l]))); // ‖XᵀX‖_F
  const m = states.map(() => new Array<number>(states.length).fill(1));
  for (let a = 0; a < states.length; a++) {
    for (let b = a + 1; b < states.length; b++) {
      const den = self[a] * self[b];
      m[a][b] = m[b][a] = den > 0 ? crossNormSq(states[a], H[a], states[b], H[b]) / den : 0;
    }
  }
  return m;
}
