/**
 * Reference linear CKA in the kernel form, written independently of lib/models/similarity.ts: Gram matrices of the
 * raw (uncentred) rows, double-centred, HSIC(K, L) = Σ Kc∘Lc; CKA = HSIC(K, L) / √(HSIC(K, K)·HSIC(L, L)).
 */
export function kernelCka(x: ArrayLike<number>, Dx: number, y: ArrayLike<number>, Dy: number): number {
  const centredGram = (a: ArrayLike<number>, D: number) => {
    const n = a.length / D;
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += a[i * D + d] * a[j * D + d];
        k[i * n + j] = s;
      }
    const rowMean = new Float64Array(n);
    let all = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) rowMean[i] += k[i * n + j] / n;
      all += rowMean[i] / n;
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) k[i * n + j] += all - rowMean[i] - rowMean[j]; // K symmetric: column means = row means
    return k;
  };
  const hsic = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  const K = centredGram(x, Dx);
  const L = centredGram(y, Dy);
  return hsic(K, L) / Math.sqrt(hsic(K, K) * hsic(L, L));
}
