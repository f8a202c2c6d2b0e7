/** Calibration of probabilities P(spoof) against labels (1 = spoof): binned reliability, ECE, Brier, NLL, accuracy. */
import { DataError } from '../errors';
import { checkScores } from './roc';

export interface CalibrationBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean P(spoof) in the bin (NaN when empty). */
  meanP: number;
  /** Fraction of spoofs in the bin (NaN when empty). */
  fracSpoof: number;
}

/** Equal-width bins on P(spoof): bin k = min(⌊nBins·p⌋, nBins − 1). */
export function calibrationBins(probs: ArrayLike<number>, labels: ArrayLike<number>, nBins = 15): CalibrationBin[] {
  const count = new Float64Array(nBins);
  const sumP = new Float64Array(nBins);
  const sumY = new Float64Array(nBins);
  for (let i = 0; i < probs.length; i++) {
    const k = Math.min(Math.floor(nBins * probs[i]), nBins - 1);
    count[k]++;
    sumP[k] += probs[i];
    sumY[k] += labels[i];
  }
  return Array.from(count, (c, k) => ({ lo: k / nBins, hi: (k + 1) / nBins, count: c, meanP: sumP[k] / c, fracSpoof: sumY[k] / c }));
}

/** Expected calibration error: Σ over non-empty bins of (share of samples)·|fraction of spoofs − mean P|. */
export function ece(probs: ArrayLike<number>, labels: ArrayLike<number>, nBins = 15): number {
  checkProbs(probs, labels);
  let e = 0;
  for (const b of calibrationBins(probs, labels, nBins)) if (b.count > 0) e += (b.count / probs.length) * Math.abs(b.fracSpoof - b.meanP);
  return e;
}

export function brier(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkProbs(probs, labels);
  let s = 0;
  for (let i = 0; i < probs.length; i++) s += (probs[i] - labels[i]) ** 2;
  return s / probs.length;
}

/** Mean negative log-likelihood with P clipped to [1e-15, 1 − 1e-15] (as sklearn's log_loss). */
export function nll(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkProbs(probs, labels);
  let s = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = Math.min(Math.max(probs[i], 1e-15), 1 - 1e-15);
    s -= labels[i] ? Math.log(p) : Math.log(1 - p);
  }
  return s / probs.length;
}

/** Fraction of samples where (P ≥ threshold) matches the label. */
export function accuracy(probs: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  checkProbs(probs, labels);
  let ok = 0;
  for (let i = 0; i < probs.length; i++) ok += Number((probs[i] >= threshold ? 1 : 0) === labels[i]);
  return ok / probs.length;
}

/** Probabilities must lie in [0, 1]. */
export function checkProbs(probs: ArrayLike<number>, labels: ArrayLike<number>): void {
  checkScores(probs, labels);
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] < 0 || probs[i] > 1) throw new DataError(`P(spoof) ${i} is ${probs[i]}, outside [0, 1]`);
  }
}
