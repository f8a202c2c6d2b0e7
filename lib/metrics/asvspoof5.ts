/**
 * ASVspoof 5 metrics. The challenge scores are log-likelihood ratios of bona fide vs spoof (higher = bona fide);
 * wavprobe's scores are a calibrated P(spoof), fitted under some spoof prior, so they are turned into LLRs first.
 * Labels are wavprobe's: 1 = spoof.
 */
import { assertBothClasses, countClasses } from '../data/labels';
import { DataError, UsageError } from '../errors';
import { detCurve } from './eer';
import { checkDetection } from './roc';

/** The challenge's costs: prior of spoof, cost of rejecting bona fide (miss), cost of accepting spoof (false alarm). */
export const ASVSPOOF5_P_SPOOF = 0.05;
export const ASVSPOOF5_C_MISS = 1;
export const ASVSPOOF5_C_FA = 10;

export interface DcfCosts {
  pSpoof: number;
  cMiss: number;
  cFa: number;
}

export const ASVSPOOF5_COSTS: DcfCosts = { pSpoof: ASVSPOOF5_P_SPOOF, cMiss: ASVSPOOF5_C_MISS, cFa: ASVSPOOF5_C_FA };

const P_CLIP = 1e-15;

/** Throws a UsageError unless `p` is a prior strictly between 0 and 1; `what` names it (an option, a field). */
export function checkPrior(p: number, what: string): number {
  if (!(p > 0 && p < 1)) throw new UsageError(`${what} must be a probability strictly between 0 and 1, got ${p}`);
  return p;
}

/** ln(p/(1 − p)). */
export const logOdds = (p: number) => Math.log(p / (1 - p));

/** LLR of bona fide vs spoof from P(spoof) `p` fitted under spoof prior `priorSpoof`: the prior's log-odds removed. */
export function llrFromProb(p: number, priorSpoof: number): number {
  const q = Math.min(Math.max(p, P_CLIP), 1 - P_CLIP);
  return Math.log((1 - q) / q) - Math.log((1 - priorSpoof) / priorSpoof);
}

/** P(spoof) under spoof prior `priorSpoof` from a bona-fide-vs-spoof LLR: Bayes' rule in log-odds. */
export function probFromLlr(llr: number, priorSpoof: number): number {
  return 1 / (1 + Math.exp(llr - logOdds(priorSpoof)));
}

/** Every P(spoof) of `probs` as an LLR. */
export const llrsFromProbs = (probs: ArrayLike<number>, priorSpoof: number): Float64Array =>
  Float64Array.from(probs, (p) => llrFromProb(p, priorSpoof));

/** The Bayes threshold on the LLR, −ln β with β = Cmiss·(1 − Pspoof)/(Cfa·Pspoof): below it, deciding spoof costs less. */
export function bayesThresholdLlr(c: DcfCosts = ASVSPOOF5_COSTS): number {
  return -Math.log((c.cMiss * (1 - c.pSpoof)) / (c.cFa * c.pSpoof));
}

const dcf = (pMiss: number, pFa: number, c: DcfCosts) =>
  (c.cMiss * (1 - c.pSpoof) * pMiss + c.cFa * c.pSpoof * pFa) / Math.min(c.cMiss * (1 - c.pSpoof), c.cFa * c.pSpoof);

/** 1 for bona fide: the DET sweep's target class when scores are LLRs (higher = bona fide). */
const bonaLabels = (labels: ArrayLike<number>) => Uint8Array.from(labels, (y) => 1 - y);

/**
 * Normalised DCF at the best threshold of the DET sweep of `eerAsvspoof`, with bona fide as the target class:
 * its miss is bona fide rejected, its false alarm spoof accepted. Any monotone increasing score works (no prior needed).
 */
export function minDcf(llrs: ArrayLike<number>, labels: ArrayLike<number>, c: DcfCosts = ASVSPOOF5_COSTS): number {
  const { miss, falseAlarm } = detCurve(llrs, bonaLabels(labels));
  let best = Infinity;
  for (let k = 0; k < miss.length; k++) best = Math.min(best, dcf(miss[k], falseAlarm[k], c));
  return best;
}

/** Normalised DCF at the Bayes threshold τ: bona fide with llr < τ is a miss, spoof with llr ≥ τ a false alarm. */
export function actDcf(llrs: ArrayLike<number>, labels: ArrayLike<number>, c: DcfCosts = ASVSPOOF5_COSTS): number {
  checkDetection(llrs, labels);
  const tau = bayesThresholdLlr(c);
  const { bona, spoof } = countClasses(labels);
  let misses = 0;
  let falseAlarms = 0;
  for (let i = 0; i < llrs.length; i++) {
    if (labels[i]) falseAlarms += +(llrs[i] >= tau);
    else misses += +(llrs[i] < tau);
  }
  return dcf(misses / bona, falseAlarms / spoof, c);
}

/** ln(1 + eˣ) without overflow; +∞ → +∞, −∞ → 0 (the optimal LLRs of minCllr may be infinite). */
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Cllr in bits: ½·[mean log₂(1 + e^−llr) over bona fide + mean log₂(1 + e^llr) over spoof]. */
export function cllr(llrs: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (llrs.length !== labels.length) throw new DataError(`${llrs.length} scores but ${labels.length} labels`);
  assertBothClasses(labels, undefined, 'Cllr');
  const { bona, spoof } = countClasses(labels);
  let bonaSum = 0;
  let spoofSum = 0;
  for (let i = 0; i < llrs.length; i++) {
    if (labels[i]) spoofSum += softplus(llrs[i]);
    else bonaSum += softplus(-llrs[i]);
  }
  return (bonaSum / bona + spoofSum / spoof) / (2 * Math.LN2);
}

/**
 * Isotonic regression (pool adjacent violators) of `targets` (0/1) on `scores`, non-decreasing in the score.
 * Tied scores start as one block, so they always get one value. Returns the fitted value of each input.
 */
export function pav(scores: ArrayLike<number>, targets: ArrayLike<number>): Float64Array {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  // Blocks on a stack: sum of targets, count, and the first position (in `order`) they cover.
  const sums: number[] = [];
  const counts: number[] = [];
  const starts: number[] = [];
  for (let k = 0; k < order.length; k++) {
    const s = scores[order[k]];
    if (k > 0 && s === scores[order[k - 1]]) {
      sums[sums.length - 1] += targets[order[k]];
      counts[counts.length - 1]++;
    } else {
      sums.push(targets[order[k]]);
      counts.push(1);
      starts.push(k);
    }
    // Merge while the last block's mean is below the one before it (compared without dividing).
    while (sums.length > 1 && sums[sums.length - 1] * counts[counts.length - 2] < sums[sums.length - 2] * counts[counts.length - 1]) {
      sums[sums.length - 2] += sums.pop()!;
      counts[counts.length - 2] += counts.pop()!;
      starts.pop();
    }
  }
  const fitted = new Float64Array(scores.length);
  for (let b = 0; b < starts.length; b++) {
    const end = b + 1 < starts.length ? starts[b + 1] : order.length;
    for (let k = starts[b]; k < end; k++) fitted[order[k]] = sums[b] / counts[b];
  }
  return fitted;
}

/**
 * Cllr after the best monotone recalibration (BOSARIS' min Cllr): the PAV posterior of bona fide on the score,
 * turned into an LLR by removing the log-odds of the class counts.
 */
export function minCllr(llrs: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkDetection(llrs, labels);
  const { bona, spoof } = countClasses(labels);
  const posterior = pav(llrs, bonaLabels(labels));
  const offset = Math.log(bona / spoof);
  // A posterior of 0 or 1 gives an infinite LLR; PAV only gives it to blocks of one class, where it costs nothing.
  const optimal = Float64Array.from(posterior, (q) => Math.log(q) - Math.log(1 - q) - offset);
  return cllr(optimal, labels);
}

export interface Asvspoof5Metrics {
  min_dcf: number;
  /** null where the scores' prior is unknown (an LLR needs it). */
  act_dcf: number | null;
  cllr: number | null;
  min_cllr: number | null;
}

/**
 * The ASVspoof 5 metrics of P(spoof) scores fitted under spoof prior `priorSpoof`. min_dcf needs no prior (any
 * prior shifts every LLR alike); without one the others are null.
 */
export function asvspoof5Metrics(probs: ArrayLike<number>, labels: ArrayLike<number>, priorSpoof: number | null): Asvspoof5Metrics {
  const llrs = llrsFromProbs(probs, priorSpoof ?? 0.5);
  const known = priorSpoof !== null;
  return {
    min_dcf: minDcf(llrs, labels),
    act_dcf: known ? actDcf(llrs, labels) : null,
    cllr: known ? cllr(llrs, labels) : null,
    min_cllr: known ? minCllr(llrs, labels) : null,
  };
}

/**
 * A posterior moved to another spoof prior and the Bayes decision there (Cmiss for bona fide rejected, Cfa for
 * spoof accepted): spoof when llr < ln(Cfa·π′/(Cmiss·(1 − π′))), the act_dcf rule with the target prior.
 */
export function retarget(
  pSpoof: number,
  fromPrior: number,
  toPrior: number,
  costs: { cMiss: number; cFa: number } = ASVSPOOF5_COSTS,
): { llr: number; p_spoof: number; decision: 'spoof' | 'bona-fide' } {
  const llr = llrFromProb(pSpoof, fromPrior);
  const tau = bayesThresholdLlr({ cMiss: costs.cMiss, cFa: costs.cFa, pSpoof: toPrior });
  return { llr, p_spoof: probFromLlr(llr, toPrior), decision: llr < tau ? 'spoof' : 'bona-fide' };
}
