/**
 * The paper's reliability experiment: a confidence r = 1 − H(p)/ln 2 from the binary entropy of P(spoof), and the
 * accuracy of the decisions kept as the threshold on r rises from 0 to 1 (selective prediction).
 */
import { checkScores } from './roc';

/** 1 − H(p)/ln 2: 0 at p = 0.5, 1 at p ∈ {0, 1}. */
export function confidence(p: number): number {
  const h = (q: number) => (q > 0 ? -q * Math.log(q) : 0);
  return 1 - (h(p) + h(1 - p)) / Math.LN2;
}

export interface SelectivePoint {
  /** Keep samples with r ≥ threshold. */
  threshold: number;
  kept: number;
  fractionKept: number;
  /** Accuracy at P = 0.5 on the kept samples; null when none is kept. */
  accuracy: number | null;
}

/** Accuracy vs fraction kept for thresholds 0, 1/steps, …, 1 on r. */
export function selectivePrediction(probs: ArrayLike<number>, labels: ArrayLike<number>, steps = 100): SelectivePoint[] {
  checkScores(probs, labels);
  const n = probs.length;
  const r = Float64Array.from({ length: n }, (_, i) => confidence(probs[i]));
  const correct = Uint8Array.from({ length: n }, (_, i) => Number((probs[i] >= 0.5 ? 1 : 0) === labels[i]));
  const points: SelectivePoint[] = [];
  for (let s = 0; s <= steps; s++) {
    const threshold = s / steps;
    let kept = 0;
    let ok = 0;
    for (let i = 0; i < n; i++) {
      if (r[i] >= threshold) {
        kept++;
        ok += correct[i];
      }
    }
    points.push({ threshold, kept, fractionKept: kept / n, accuracy: kept ? ok / kept : null });
  }
  return points;
}
