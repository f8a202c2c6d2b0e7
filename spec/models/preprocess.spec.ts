import { preprocess } from '../../lib/models';
import { PreprocessorConfig } from '../../lib/weights/config';

const cfg = (over: Partial<PreprocessorConfig>): PreprocessorConfig => ({
  samplingRate: 16000,
  doNormalize: true,
  paddingValue: 0,
  returnAttentionMask: true,
  ...over,
});
const close = (got: Float32Array, want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));

describe('preprocess (Wav2Vec2FeatureExtractor, padding=True)', () => {
  const rows = [Float32Array.from([1, 2, 3]), Float32Array.from([4, 5])];

  it('with a mask: statistics over valid samples, tail = padding_value, mask 1/0', () => {
    const p = preprocess(rows, cfg({ paddingValue: 0.5 }));
    expect([p.B, p.N]).toEqual([2, 3]);
    const s0 = Math.sqrt(2 / 3 + 1e-7); // mean 2, population variance 2/3
    const s1 = Math.sqrt(0.25 + 1e-7); // mean 4.5, variance 0.25
    close(p.inputValues, [-1 / s0, 0, 1 / s0, -0.5 / s1, 0.5 / s1, 0.5]);
    expect(Array.from(p.attentionMask!)).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it('without a mask: statistics over the whole padded row, tail normalised like signal', () => {
    const p = preprocess(rows, cfg({ returnAttentionMask: false }));
    expect(p.attentionMask).toBeUndefined();
    const s1 = Math.sqrt(14 / 3 + 1e-7); // row [4, 5, 0]: mean 3, variance (1 + 4 + 9)/3
    close(p.inputValues.subarray(3), [1 / s1, 2 / s1, -3 / s1]);
  });

  it('do_normalize false: only padding', () => {
    const p = preprocess(rows, cfg({ doNormalize: false, paddingValue: -1 }));
    expect(Array.from(p.inputValues)).toEqual([1, 2, 3, 4, 5, -1]);
  });

  it('refuses an empty batch', () => expect(() => preprocess([], cfg({}))).toThrow(/at least one waveform/));
});
