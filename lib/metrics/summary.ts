/** The metric set reported for a detector's P(spoof) scores (labels 1 = spoof). */
import { brier, accuracy, ece, nll } from './calibration';
import { eerAsvspoof, eerRocInterpolated } from './eer';
import { auc } from './roc';

export interface Metrics {
  eer_asvspoof: number;
  eer_roc_interpolated: number;
  auc: number;
  ece_15: number;
  brier: number;
  nll: number;
  'accuracy_at_0.5': number;
}

export function computeMetrics(probs: ArrayLike<number>, labels: ArrayLike<number>): Metrics {
  return {
    eer_asvspoof: eerAsvspoof(probs, labels),
    eer_roc_interpolated: eerRocInterpolated(probs, labels),
    auc: auc(probs, labels),
    ece_15: ece(probs, labels, 15),
    brier: brier(probs, labels),
    nll: nll(probs, labels),
    'accuracy_at_0.5': accuracy(probs, labels, 0.5),
  };
}
