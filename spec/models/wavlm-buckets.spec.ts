import { relativePositionBuckets } from '../../lib/models';
import { REF } from '../helpers/nn-reference';

/** Buckets for relative positions −1500..1500 against HF's function evaluated in float32 numpy. */
describe('WavLM relative position buckets', () => {
  const rel: number[] = REF.buckets.relative;
  const T = (rel.length + 1) / 2; // 1501: row 0 covers r = 0..1500, the last row r = −1500..0

  it.each([
    ['320 buckets, max distance 800 (WavLM base/large)', 320, 800, 'b320_800'],
    ['32 buckets, max distance 40 (clipping)', 32, 40, 'b32_40'],
  ])('%s', (_name, numBuckets, maxDistance, key) => {
    const b = relativePositionBuckets(T, numBuckets as number, maxDistance as number);
    const expected: number[] = REF.buckets[key as string];
    const got = rel.map((r) => (r >= 0 ? b[r] : b[(T - 1) * T + (T - 1 + r)])); // (i=0, j=r) or (i=T−1, j=T−1+r)
    expect(got).toEqual(expected);
  });

  it('depends only on j − i', () => {
    const b = relativePositionBuckets(50, 320, 800);
    for (let i = 1; i < 50; i++) for (let j = 1; j < 50; j++) expect(b[i * 50 + j]).toBe(b[(i - 1) * 50 + (j - 1)]);
  });
});
