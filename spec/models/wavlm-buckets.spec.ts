import { relativePositionBuckets } from '../../lib/models';
import { REF } from '../helpers/nn-reference';

/** Buckets for relative positions −1500..1500 against HF's function evaluated in float32 numpy. */
describe('WavLM relative position buckets', () => {
  const rel: number[] = REF.buckets.relative;
  const T = (rel.length + 1) / 2; // 1501: offsets −1500..1500

  it.each([
    ['320 buckets, max distance 800 (WavLM base/large)', 320, 800, 'b320_800'],
    ['32 buckets, max distance 40 (clipping)', 32, 40, 'b32_40'],
  ])('%s', (_name, numBuckets, maxDistance, key) => {
    const b = relativePositionBuckets(T, numBuckets as number, maxDistance as number);
    const expected: number[] = REF.buckets[key as string];
    expect(rel.map((r) => b[r + T - 1])).toEqual(expected);
  });
});
