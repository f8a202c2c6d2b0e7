/**
 * Equal error rate in the two conventions in use. Scores are P(spoof); labels 1 = spoof.
 * - ASVspoof challenge: a discrete sweep over the sorted scores, no interpolation (eval_metrics.compute_eer).
 * - ROC interpolated: where the linearly interpolated ROC curve meets fpr = 1 − tpr (the paper's code,
 *   brentq over interp1d(fpr, tpr)).
 */
import { countClasses } from '../data/labels';
import { ascendingOrder, checkDetection, rocCurve } from './roc';

export interface DetCurve {
  /** Spoofs called bona fide at each threshold, starting at 0. */
  miss: Float64Array;
  /** Bona fide called spoof at each threshold, starting at 1. */
  falseAlarm: Float64Array;
  /** Score ≤ threshold is called bona fide; the first is below every score. */
  thresholds: Float64Array;
}

/**
 * The ASVspoof DET curve: every score (sorted ascending, stable with spoofs first) is a threshold, plus a first
 * point (miss 0, false alarm 1) below all scores.
 */
export function detCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): DetCurve {
  checkDetection(scores, labels);
  const { bona, spoof } = countClasses(labels);
  const order = ascendingOrder(scores, labels);
  const n = order.length;
  const miss = new Float64Array(n + 1);
  const falseAlarm = new Float64Array(n + 1);
  const thresholds = new Float64Array(n + 1);
  falseAlarm[0] = 1;
  thresholds[0] = scores[order[0]] - 0.001;
  let spoofBelow = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    spoofBelow += labels[i];
    miss[k + 1] = spoofBelow / spoof;
    falseAlarm[k + 1] = (bona - (k + 1 - spoofBelow)) / bona;
    thresholds[k + 1] = scores[i];
  }
  return { miss, falseAlarm, thresholds };
}

/** ASVspoof EER: the mean of miss and false-alarm rates at the first point where they are closest. */
export function eerAsvspoof(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { miss, falseAlarm } = detCurve(scores, labels);
  let best = 0;
  for (let k = 1; k < miss.length; k++) {
    if (Math.abs(miss[k] - falseAlarm[k]) < Math.abs(miss[best] - falseAlarm[best])) best = k;
  }
  return (miss[best] + falseAlarm[best]) / 2;
}

/** EER on the linearly interpolated ROC curve: the fpr where 1 − fpr − tpr crosses zero. */
export function eerRocInterpolated(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { fpr, tpr } = rocCurve(scores, labels);
  // h = 1 − fpr − tpr falls from 1 at (0, 0) to −1 at (1, 1); find the segment where it reaches 0.
  let k = 1;
  while (1 - fpr[k] - tpr[k] > 0) k++;
  const h0 = 1 - fpr[k - 1] - tpr[k - 1];
  const h1 = 1 - fpr[k] - tpr[k];
  return fpr[k - 1] + ((fpr[k] - fpr[k - 1]) * h0) / (h0 - h1);
}
