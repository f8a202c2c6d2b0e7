/**
 * Bootstrap confidence intervals for the headline metrics of P(spoof) scores (labels 1 = spoof): resample files, or
 * whole speakers (clips of one speaker are correlated, so the speaker is the honest unit), with replacement, and
 * take the 2.5 % and 97.5 % percentiles of each metric over the resamples.
 */
import { DataError, UsageError } from '../errors';
import { seededRandom } from '../probe/split';
import { actDcf, cllr, llrsFromProbs, minDcf } from './asvspoof5';
import { ece } from './calibration';
import { eerAsvspoof } from './eer';

export const INTERVAL_METRICS = ['eer_asvspoof', 'min_dcf', 'act_dcf', 'cllr', 'ece_15'] as const;
export type IntervalMetric = (typeof INTERVAL_METRICS)[number];

export interface BootstrapOptions {
  /** Number of resamples. */
  n: number;
  seed: number;
  by: 'file' | 'speaker';
  /** The metrics to resample (default all); the others get no interval. */
  metrics?: readonly IntervalMetric[];
}

export interface BootstrapReport extends Omit<BootstrapOptions, 'metrics'> {
  level: number;
  /** Resamples drawn again because they held only one class (see bootstrapIntervals). */
  redrawn: number;
  /** [lo, hi] per metric; null where not asked for or the metric itself is null (act_dcf and cllr without a prior). */
  intervals: Record<IntervalMetric, [number, number] | null>;
}

const LEVEL = 0.95;

/** Each metric from a resample's P(spoof) `p`, LLRs `l` and labels `y`. */
const metric: Record<IntervalMetric, (p: Float64Array, l: Float64Array, y: Uint8Array) => number> = {
  eer_asvspoof: (p, _l, y) => eerAsvspoof(p, y),
  min_dcf: (_p, l, y) => minDcf(l, y),
  act_dcf: (_p, l, y) => actDcf(l, y),
  cllr: (_p, l, y) => cllr(l, y),
  ece_15: (p, _l, y) => ece(p, y, 15),
};

/** The q-quantile of ascending `sorted`, interpolated linearly between order statistics (NumPy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]);
}

/** The central `level` percentile interval of `values`. */
export function percentileInterval(values: ArrayLike<number>, level = LEVEL): [number, number] {
  const sorted = Float64Array.from(values).sort();
  return [quantile(sorted, (1 - level) / 2), quantile(sorted, (1 + level) / 2)];
}

/** Throws a UsageError unless the options make sense. */
export function checkBootstrapOptions(o: BootstrapOptions): BootstrapOptions {
  if (!(Number.isInteger(o.n) && o.n >= 2)) throw new UsageError(`--bootstrap takes a number of resamples (an integer ≥ 2), got ${o.n}`);
  if (!Number.isInteger(o.seed)) throw new UsageError(`--seed must be an integer, got ${o.seed}`);
  if (o.by !== 'file' && o.by !== 'speaker') throw new UsageError(`--bootstrap-by takes file or speaker, got ${o.by}`);
  return o;
}

/** Rows grouped into resampling units: one per row, or one per distinct speaker (rows in first-seen order). */
export function resamplingUnits(n: number, speakers: ArrayLike<string> | null): number[][] {
  if (speakers === null) return Array.from({ length: n }, (_, i) => [i]);
  if (speakers.length !== n) throw new DataError(`${speakers.length} speakers for ${n} rows`);
  const units = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    if (speakers[i] === '') throw new DataError(`row ${i + 2} has an empty speaker; resampling by speaker needs one on every row`);
    const u = units.get(speakers[i]);
    if (u) u.push(i);
    else units.set(speakers[i], [i]);
  }
  return [...units.values()];
}

/** Seeded resamples of `units` with replacement, as row lists: as many units as there are, each drawn uniformly. */
export function* resamples(units: number[][], seed: number): Generator<number[]> {
  const rand = seededRandom(seed);
  for (;;) {
    const rows: number[] = [];
    for (let k = 0; k < units.length; k++) rows.push(...units[Math.floor(rand() * units.length)]);
    yield rows;
  }
}

/**
 * 95 % percentile intervals of EER, min_dcf, act_dcf, cllr and ECE. `priorSpoof` is the prior the scores are
 * posteriors under (null: unknown, act_dcf and cllr get no interval); `speakers` gives the row's speaker when
 * `opts.by` is speaker. A resample with one class missing has no EER: it is redrawn rather than skipped, so every
 * interval rests on `opts.n` resamples, and the redraws are counted (many of them say the units are too few).
 */
export function bootstrapIntervals(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  priorSpoof: number | null,
  opts: BootstrapOptions,
  speakers: ArrayLike<string> | null = null,
): BootstrapReport {
  checkBootstrapOptions(opts);
  if (opts.by === 'speaker' && speakers === null) throw new UsageError('--bootstrap-by speaker needs a speaker column');
  const units = resamplingUnits(probs.length, opts.by === 'speaker' ? speakers : null);
  const llrs = llrsFromProbs(probs, priorSpoof ?? 0.5);
  // act_dcf and cllr need the true LLRs, hence the prior.
  const wanted = (opts.metrics ?? INTERVAL_METRICS).filter((k) => priorSpoof !== null || (k !== 'act_dcf' && k !== 'cllr'));
  const values: Record<IntervalMetric, Float64Array> = Object.fromEntries(INTERVAL_METRICS.map((k) => [k, new Float64Array(opts.n)])) as Record<
    IntervalMetric,
    Float64Array
  >;
  const maxRedraws = 100 * opts.n;
  let redrawn = 0;
  const draws = resamples(units, opts.seed);
  for (let b = 0; b < opts.n;) {
    const rows = draws.next().value as number[];
    const y = Uint8Array.from(rows, (i) => labels[i]);
    const spoof = y.reduce((s, v) => s + v, 0);
    if (spoof === 0 || spoof === y.length) {
      if (++redrawn > maxRedraws) {
        throw new DataError(
          `${redrawn} of the bootstrap resamples held one class only: too few ${opts.by === 'speaker' ? 'speakers' : 'files'} of one class`,
        );
      }
      continue;
    }
    const p = Float64Array.from(rows, (i) => probs[i]);
    const l = Float64Array.from(rows, (i) => llrs[i]);
    for (const k of wanted) values[k][b] = metric[k](p, l, y);
    b++;
  }
  const intervals = Object.fromEntries(
    INTERVAL_METRICS.map((k) => [k, wanted.includes(k) ? percentileInterval(values[k]) : null]),
  ) as BootstrapReport['intervals'];
  return { n: opts.n, seed: opts.seed, by: opts.by, level: LEVEL, redrawn, intervals };
}
