import * as fs from 'fs';
import * as path from 'path';
import { AudioDecodeError } from '../../lib/errors';
import { readNpy } from '../../lib/features/npy';
import { lfccFrames, lfccPooled } from '../../lib/features/lfcc';
import { FIXTURES, checksumMismatches } from '../helpers/fixtures';

// Expected values come from tools/lfcc_reference.py (an independent numpy implementation of the baseline).
const DIR = path.join(FIXTURES, 'lfcc');
const CASES = JSON.parse(fs.readFileSync(path.join(DIR, 'cases.json'), 'utf8')) as Record<
  string,
  { samples: number; sample_rate: number; frames: number; dims: number }
>;
const TOL = 1e-4;

/** Largest violation of |a − e| ≤ TOL·(1 + |e|) (0 when every value is within tolerance). */
function worstExcess(actual: Float32Array, expected: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) - TOL * (1 + Math.abs(expected[i])));
  return Number.isNaN(worst) ? Infinity : worst;
}

const load = (name: string) => readNpy(path.join(DIR, `${name}.npy`));

describe('lfcc', () => {
  it('has intact reference fixtures', () => {
    expect(checksumMismatches(DIR)).toEqual([]);
    expect(Object.keys(CASES).sort()).toEqual(['long', 'short', 'tiny']);
  });

  it.each(Object.keys(CASES))('%s: frames match the numpy reference within 1e-4', (name) => {
    const c = CASES[name];
    const signal = load(`${name}_signal`);
    expect(signal.shape).toEqual([c.samples]);
    const expected = load(`${name}_frames`);
    const got = lfccFrames(signal.data, c.sample_rate);
    expect([got.frames, got.dims]).toEqual([c.frames, c.dims]);
    expect(expected.shape).toEqual([c.frames, c.dims]);
    expect(worstExcess(got.data, expected.data)).toBeLessThanOrEqual(0);
  });

  it.each(Object.keys(CASES))('%s: pooled mean (60) and mean+std (120) match the reference', (name) => {
    const signal = load(`${name}_signal`).data;
    const mean = lfccPooled(signal);
    const meanStd = lfccPooled(signal, 16000, { std: true });
    expect(mean.length).toBe(60);
    expect(meanStd.length).toBe(120);
    expect(worstExcess(mean, load(`${name}_mean`).data)).toBeLessThanOrEqual(0);
    expect(worstExcess(meanStd, load(`${name}_meanstd`).data)).toBeLessThanOrEqual(0);
  });

  it('rejects empty input and impossible options', () => {
    expect(() => lfccFrames(new Float32Array(0))).toThrow(AudioDecodeError);
    expect(() => lfccFrames(new Float32Array(400), 16000, { nfft: 256 })).toThrow(/nfft must be a power of two ≥ the window \(320 samples\)/);
    expect(() => lfccFrames(new Float32Array(400), 16000, { nfft: 600 })).toThrow(RangeError);
    expect(() => lfccFrames(new Float32Array(400), 16000, { coeffs: 21 })).toThrow(/coeffs must be in 1…filters/);
  });
});
