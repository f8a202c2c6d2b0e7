/** ROC curve and its area. Scores are P(spoof) (higher = more likely spoof); labels 1 = spoof, the positive class. */
import { assertBothClasses, countClasses } from '../data/labels';
import { DataError } from '../errors';

export interface RocCurve {
  /** One point per distinct score, from (0, 0) at threshold +∞ to (1, 1). */
  fpr: Float64Array;
  tpr: Float64Array;
  /** Score ≥ threshold is called spoof. */
  thresholds: Float64Array;
}

/** Checks what every metric needs: as many labels as scores, at least one, all finite. */
export function checkScores(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) throw new DataError(`${scores.length} scores but ${labels.length} labels`);
  if (scores.length === 0) throw new DataError('no scores');
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new DataError(`score ${i} is ${scores[i]}`);
  }
}

/** Error rates need both classes as well. */
export function checkDetection(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  checkScores(scores, labels);
  assertBothClasses(labels, undefined, 'an error rate');
}

/** Indices ordering the scores ascending, spoofs before bona fide among equal scores. */
export function ascendingOrder(scores: ArrayLike<number>, labels: ArrayLike<number>): Uint32Array {
  const idx = Uint32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[a] - scores[b] || labels[b] - labels[a]);
}

export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  checkDetection(scores, labels);
  const { bona, spoof } = countClasses(labels);
  const order = ascendingOrder(scores, labels).reverse(); // descending
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i]) tp++;
    else fp++;
    // Tied scores move together: one point per distinct score.
    if (k + 1 === order.length || scores[order[k + 1]] !== scores[i]) {
      fpr.push(fp / bona);
      tpr.push(tp / spoof);
      thresholds.push(scores[i]);
    }
  }
  return { fpr: Float64Array.from(fpr), tpr: Float64Array.from(tpr), thresholds: Float64Array.from(thresholds) };
}

/** Area under the ROC curve by the trapezoid rule (ties count half, as sklearn's roc_auc_score). */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { fpr, tpr } = rocCurve(scores, labels);
  let a = 0;
  for (let k = 1; k < fpr.length; k++) a += ((fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1])) / 2;
  return a;
}
