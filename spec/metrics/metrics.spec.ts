import * as path from 'path';
import {
  accuracy,
  auc,
  brier,
  calibrationBins,
  computeMetrics,
  confidence,
  detCurve,
  ece,
  eerAsvspoof,
  eerRocInterpolated,
  evaluateScoresFile,
  Metrics,
  nll,
  readScoresCsv,
  rocCurve,
  selectivePrediction,
} from '../../lib/metrics';
import { PROBE, probeJson } from '../helpers/probe';

type Expected = Metrics & { scores: string; n_bona: number; n_spoof: number };
const KEYS = ['eer_asvspoof', 'eer_roc_interpolated', 'auc', 'ece_15', 'brier', 'nll', 'accuracy_at_0.5'] as const;

describe('metrics against metrics.json', () => {
  const sets = probeJson<Expected[]>('metrics.json');
  it('has four score sets', () => expect(sets).toHaveLength(4));

  it.each(sets.map((s) => [s.scores, s] as const))('%s', (_name, s) => {
    const { scores, labels } = readScoresCsv(path.join(PROBE, s.scores));
    expect(labels.length - labels.reduce((a, b) => a + b, 0)).toBe(s.n_bona);
    const got = computeMetrics(scores, labels);
    expect(Object.keys(got).sort()).toEqual([...KEYS].sort());
    for (const k of KEYS) expect(Math.abs(got[k] - s[k])).toBeLessThanOrEqual(1e-6);
    // Each single function, and the score-file path, against the same reference answers.
    const single: Record<(typeof KEYS)[number], number> = {
      eer_asvspoof: eerAsvspoof(scores, labels),
      eer_roc_interpolated: eerRocInterpolated(scores, labels),
      auc: auc(scores, labels),
      ece_15: ece(scores, labels, 15),
      brier: brier(scores, labels),
      nll: nll(scores, labels),
      'accuracy_at_0.5': accuracy(scores, labels),
    };
    const fromFile = evaluateScoresFile(path.join(PROBE, s.scores));
    for (const k of KEYS) {
      expect(Math.abs(single[k] - s[k])).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(fromFile[k] - s[k])).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('metric conventions on small hand-worked cases', () => {
  it('EER conventions differ on ties: discrete sweep vs interpolated ROC', () => {
    // Two bona fide at 0.2 and 0.6, two spoof at 0.6 and 0.9.
    const p = [0.2, 0.6, 0.6, 0.9];
    const y = [0, 0, 1, 1];
    // Sorted (spoofs first among ties): 0.2b, 0.6s, 0.6b, 0.9s → (miss, fa): (0,1) (0,.5) (.5,.5) (.5,0) (1,0)
    expect(eerAsvspoof(p, y)).toBe(0.5);
    // ROC (0,0) → (0,.5) → (.5,1) → (1,1): 1 − fpr − tpr hits 0 on the diagonal tie segment at fpr = 0.25
    expect(eerRocInterpolated(p, y)).toBeCloseTo(0.25, 15);
    expect(auc(p, y)).toBeCloseTo(0.875, 15);
    const roc = rocCurve(p, y);
    expect(Array.from(roc.fpr)).toEqual([0, 0, 0.5, 1]);
    expect(Array.from(roc.tpr)).toEqual([0, 0.5, 1, 1]);
    const det = detCurve(p, y);
    expect(Array.from(det.miss)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(Array.from(det.falseAlarm)).toEqual([1, 0.5, 0.5, 0, 0]);
  });

  it('perfect separation gives EER 0 and AUC 1', () => {
    expect(eerAsvspoof([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(0);
    expect(eerRocInterpolated([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
  });

  it('calibration bins put p = 1 in the last bin and ECE weights bins by share', () => {
    const p = [0, 0.05, 1, 1];
    const y = [0, 1, 1, 1];
    const bins = calibrationBins(p, y, 15);
    expect(bins[0]).toMatchObject({ count: 2, meanP: 0.025, fracSpoof: 0.5 });
    expect(bins[14]).toMatchObject({ count: 2, meanP: 1, fracSpoof: 1 });
    expect(ece(p, y)).toBeCloseTo(0.5 * 0.475, 15);
    expect(brier(p, y)).toBeCloseTo(0.95 ** 2 / 4, 15);
    expect(nll([0, 1], [1, 0])).toBe(-(Math.log(1e-15) + Math.log(1 - (1 - 1e-15))) / 2); // clipped to [1e-15, 1 − 1e-15]
    expect(accuracy([0.5, 0.49], [1, 1])).toBe(0.5);
  });

  it('confidence r = 1 − H(p)/ln 2', () => {
    expect(confidence(0.5)).toBeCloseTo(0, 15);
    expect(confidence(0)).toBe(1);
    expect(confidence(1)).toBe(1);
    expect(confidence(0.9)).toBeCloseTo(1 + (0.9 * Math.log(0.9) + 0.1 * Math.log(0.1)) / Math.LN2, 15);
  });

  it('selective prediction keeps everything at threshold 0 and only confident decisions later', () => {
    const p = [0.5, 0.6, 0.99, 0.01];
    const y = [1, 0, 1, 0];
    const pts = selectivePrediction(p, y, 10);
    expect(pts).toHaveLength(11);
    expect(pts[0]).toEqual({ threshold: 0, kept: 4, fractionKept: 1, accuracy: 0.75 }); // 0.6 is the one error
    expect(pts[5]).toMatchObject({ kept: 2, fractionKept: 0.5, accuracy: 1 }); // r(0.6) ≈ 0.029, r(0.99) ≈ 0.92
    expect(pts[10]).toMatchObject({ kept: 0, accuracy: null });
  });

  it('rejects one class, non-finite scores and length mismatches', () => {
    expect(() => eerAsvspoof([0.1, 0.2], [1, 1])).toThrow(/needs both classes, found only spoof/);
    expect(() => auc([0.1, NaN], [0, 1])).toThrow(/score 1 is NaN/);
    expect(() => brier([0.1], [0, 1])).toThrow(/1 scores but 2 labels/);
    expect(() => brier([1.5, 0], [0, 1])).toThrow(/outside \[0, 1\]/);
  });
});
