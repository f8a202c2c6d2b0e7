/** Bootstrap intervals: coverage of a known population EER, determinism, whole-speaker resampling. */
import { bootstrapIntervals, resamples, resamplingUnits } from '../../lib/metrics/bootstrap';
import { seededRandom } from '../../lib/probe/split';

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf, error < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** n/2 bona fide scores from N(0, 1) and n/2 spoofs from N(d, 1), as P(spoof) = σ(x) (monotone: the EER is kept). */
function gaussianScores(n: number, d: number, seed: number): { probs: Float64Array; labels: Uint8Array } {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
  const probs = Float64Array.from(labels, (y) => 1 / (1 + Math.exp(-(normal() + d * y))));
  return { probs, labels };
}

describe('bootstrap intervals', () => {
  it('the file-level EER interval covers the population EER Φ(−d/2) in about 95 % of trials', () => {
    const d = 2;
    const truth = phi(-d / 2);
    const trials = 200;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const { probs, labels } = gaussianScores(300, d, 1000 + t);
      const [lo, hi] = bootstrapIntervals(probs, labels, null, { n: 200, seed: t, by: 'file', metrics: ['eer_asvspoof'] }).intervals.eer_asvspoof!;
      covered += +(lo <= truth && truth <= hi);
    }
    console.log(`coverage ${covered}/${trials}`);
    expect(covered / trials).toBeGreaterThanOrEqual(0.9);
    expect(covered / trials).toBeLessThanOrEqual(0.99);
  });

  it('is deterministic for a seed, and the seed matters', () => {
    const { probs, labels } = gaussianScores(200, 1.5, 7);
    const a = bootstrapIntervals(probs, labels, 0.5, { n: 100, seed: 3, by: 'file' });
    expect(bootstrapIntervals(probs, labels, 0.5, { n: 100, seed: 3, by: 'file' })).toEqual(a);
    expect(bootstrapIntervals(probs, labels, 0.5, { n: 100, seed: 4, by: 'file' }).intervals).not.toEqual(a.intervals);
    for (const [k, v] of Object.entries(a.intervals)) {
      expect(v).not.toBeNull();
      expect(v![0]).toBeLessThanOrEqual(v![1]);
      expect(Number.isFinite(v![0])).toBe(true);
      void k;
    }
  });

  it('without a prior, act_dcf and cllr get no interval', () => {
    const { probs, labels } = gaussianScores(100, 1, 1);
    const r = bootstrapIntervals(probs, labels, null, { n: 20, seed: 0, by: 'file' });
    expect(r.intervals.act_dcf).toBeNull();
    expect(r.intervals.cllr).toBeNull();
    expect(r.intervals.min_dcf).not.toBeNull();
  });

  it('resampling by speaker keeps every speaker whole', () => {
    // Speaker s has s + 1 rows; a resample is a multiset of whole speakers.
    const speakers: string[] = [];
    for (let s = 0; s < 6; s++) for (let k = 0; k <= s; k++) speakers.push(`spk${s}`);
    const units = resamplingUnits(speakers.length, speakers);
    expect(units.map((u) => u.length)).toEqual([1, 2, 3, 4, 5, 6]);
    const draws = resamples(units, 5);
    for (let b = 0; b < 50; b++) {
      const rows = draws.next().value as number[];
      const perSpeaker = new Map<string, number>();
      for (const i of rows) perSpeaker.set(speakers[i], (perSpeaker.get(speakers[i]) ?? 0) + 1);
      // Each speaker drawn c times contributes c·(its size) rows.
      for (const [s, count] of perSpeaker) expect(count % (Number(s.slice(3)) + 1)).toBe(0);
      expect([...perSpeaker.values()].reduce((a, c) => a + c, 0)).toBe(rows.length);
      let units = 0;
      for (const [s, count] of perSpeaker) units += count / (Number(s.slice(3)) + 1);
      expect(units).toBe(6);
    }
  });

  it('redraws resamples with one class only and counts them; refuses speaker resampling without speakers', () => {
    // Two speakers, one per class: half of all resamples hold one class.
    const labels = Uint8Array.from([0, 0, 0, 1, 1, 1]);
    const probs = Float64Array.from([0.1, 0.2, 0.6, 0.4, 0.8, 0.9]);
    const speakers = ['a', 'a', 'a', 'b', 'b', 'b'];
    const r = bootstrapIntervals(probs, labels, 0.5, { n: 40, seed: 1, by: 'speaker' }, speakers);
    expect(r.redrawn).toBeGreaterThan(0);
    expect(r.n).toBe(40);
    // Every kept resample is both speakers once: the interval is the point estimate.
    expect(r.intervals.eer_asvspoof![0]).toBe(r.intervals.eer_asvspoof![1]);
    expect(() => bootstrapIntervals(probs, labels, 0.5, { n: 10, seed: 1, by: 'speaker' })).toThrow(/speaker column/);
  });
});
