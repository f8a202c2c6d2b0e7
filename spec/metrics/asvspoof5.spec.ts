import * as path from 'path';
import {
  actDcf,
  asvspoof5Metrics,
  bayesThresholdLlr,
  cllr,
  llrFromProb,
  minCllr,
  minDcf,
  pav,
  probFromLlr,
  readScoresCsv,
  retarget,
} from '../../lib/metrics';
import { PROBE, probeJson } from '../helpers/probe';

const KEYS = ['min_dcf', 'act_dcf', 'cllr', 'min_cllr'] as const;
type Expected = Record<(typeof KEYS)[number] | 'prior_spoof' | 'act_dcf_threshold_llr', number> & { n_bona: number; n_spoof: number };
const golden = probeJson<{ sets: Record<string, Expected> }>('metrics5.json');

describe('ASVspoof 5 metrics against metrics5.json', () => {
  it('has four score sets', () => expect(Object.keys(golden.sets)).toHaveLength(4));

  it.each(Object.entries(golden.sets))('%s', (name, s) => {
    const { scores, labels } = readScoresCsv(path.join(PROBE, `${name}.csv`));
    expect(labels.reduce((a, b) => a + b, 0)).toBe(s.n_spoof);
    const llrs = Float64Array.from(scores, (p) => llrFromProb(p, s.prior_spoof));
    const single = { min_dcf: minDcf(llrs, labels), act_dcf: actDcf(llrs, labels), cllr: cllr(llrs, labels), min_cllr: minCllr(llrs, labels) };
    const all = asvspoof5Metrics(scores, labels, s.prior_spoof);
    for (const k of KEYS) {
      expect(Math.abs(single[k] - s[k])).toBeLessThanOrEqual(1e-6);
      expect(all[k]).toBe(single[k]);
    }
    expect(Math.abs(bayesThresholdLlr() - s.act_dcf_threshold_llr)).toBeLessThanOrEqual(1e-12);
    // min_dcf needs no prior; the others are unknown without one.
    expect(asvspoof5Metrics(scores, labels, null)).toEqual({ min_dcf: all.min_dcf, act_dcf: null, cllr: null, min_cllr: null });
  });
});

describe('ASVspoof 5 metrics by hand', () => {
  it('llr: the prior log-odds removed, p clipped to [1e-15, 1 − 1e-15]', () => {
    expect(llrFromProb(0.5, 0.5)).toBe(0);
    expect(llrFromProb(0.9, 0.9)).toBeCloseTo(0, 12); // the prior itself carries no evidence
    expect(llrFromProb(0.2, 0.5)).toBeCloseTo(Math.log(4), 12);
    expect(llrFromProb(0, 0.5)).toBeCloseTo(Math.log(1e15), 6);
    expect(llrFromProb(1, 0.5)).toBeCloseTo(-Math.log(1e15), 2); // 1 − 1e-15 is not exact in a double
    expect(probFromLlr(Math.log(4), 0.5)).toBeCloseTo(0.2, 12);
  });

  it('PAV: violators pooled, tied scores one block', () => {
    // Targets by ascending score 1 0 0 1 1: 1 0 pool to ½, then ½ > 0 pools the three to ⅓.
    expect(Array.from(pav([1, 2, 3, 4, 5], [1, 0, 0, 1, 1]))).toEqual([1 / 3, 1 / 3, 1 / 3, 1, 1]);
    // Pooling cascades: 0 1 1 0 0 → [0] then 1 1 0 0 pools to ½ throughout.
    expect(Array.from(pav([1, 2, 3, 4, 5], [0, 1, 1, 0, 0]))).toEqual([0, 0.5, 0.5, 0.5, 0.5]);
    // Two tied scores (2, 2) with targets 1, 0 are one block of ½ even though nothing violates around them.
    expect(Array.from(pav([1, 2, 2, 3], [0, 1, 0, 1]))).toEqual([0, 0.5, 0.5, 1]);
    // Input order does not matter.
    expect(Array.from(pav([3, 2, 1, 2], [1, 0, 0, 1]))).toEqual([1, 0.5, 0, 0.5]);
  });

  it('minCllr: perfectly separated scores cost 0 bits; a tie costs its block', () => {
    expect(minCllr([-3, -1, 2, 5], [1, 1, 0, 0])).toBe(0);
    // One bona fide and one spoof at the same score, classes balanced: posterior ½, LLR 0, 1 bit each.
    expect(minCllr([0, 0], [0, 1])).toBeCloseTo(1, 12);
    // Cllr of LLR 0 everywhere is 1 bit.
    expect(cllr([0, 0, 0], [0, 1, 1])).toBeCloseTo(1, 12);
  });

  it('minDcf and actDcf on four trials', () => {
    // LLRs: bona fide 2, 0; spoof −2, −0.5. τ = −ln(0.95/0.5) ≈ −0.642: spoof −0.5 ≥ τ is accepted (Pfa ½),
    // no bona fide rejected: act_dcf = 10·0.05·½ / 0.5 = 0.5.
    const llrs = [2, 0, -2, -0.5];
    const labels = [0, 0, 1, 1];
    expect(actDcf(llrs, labels)).toBeCloseTo(0.5, 12);
    // A threshold between −0.5 and 0 separates them: min_dcf 0.
    expect(minDcf(llrs, labels)).toBe(0);
    // Everything accepted costs Cfa·Pspoof/0.5 = 1; everything rejected 0.95/0.5 = 1.9: min over those and between.
    expect(minDcf([0, 0], [0, 1])).toBeCloseTo(1, 12);
  });

  it('retarget: Bayes rule in log-odds and the Bayes decision at the target prior', () => {
    // P(spoof) 0.9 under prior 0.9 is LLR 0; at prior 0.37 it is 0.37. Bayes threshold with Cmiss 1, Cfa 10:
    // τ = ln(10·0.37/0.63) ≈ 1.770 > 0, so spoof.
    const r = retarget(0.9, 0.9, 0.37);
    expect(r.llr).toBeCloseTo(0, 12);
    expect(r.p_spoof).toBeCloseTo(0.37, 12);
    expect(r.decision).toBe('spoof');
    // P(spoof) 0.5 under prior 0.5 moved to prior 0.2: odds 1 · (0.2/0.8) → 0.2. With equal costs τ = ln(0.25) < 0 = llr: bona fide.
    const s = retarget(0.5, 0.5, 0.2, { cMiss: 1, cFa: 1 });
    expect(s.p_spoof).toBeCloseTo(0.2, 12);
    expect(s.decision).toBe('bona-fide');
    // P(spoof) 0.1 under prior 0.5 (odds 1/9) moved to 0.9 (odds ×9): 0.5.
    expect(retarget(0.1, 0.5, 0.9).p_spoof).toBeCloseTo(0.5, 12);
  });
});
