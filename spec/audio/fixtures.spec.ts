/**
 * Decoding the fixtures of spec/fixtures/audio against what numpy computed when it wrote them (expected.json,
 * see make_fixtures.py): every WAV layout, FLAC bit-exact with its WAV, MP3 against its source and LAME's decoder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { audioStats, decodeAudio, DecodedAudio, loadAudio, toMono } from '../../lib/audio';
import { verifySha256Sums } from './checksums';
import { db, rms, sines } from './tones';

const DIR = path.join(__dirname, '../fixtures/audio');
const EXPECTED: Record<string, Expected> = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8'));

interface Expected {
  format: string;
  sample_rate: number;
  channels: number;
  frames: number;
  first: number[][];
  last: number[];
  sum: number[];
  sumsq: number[];
  mono_sum: number;
  mono_sumsq: number;
  peak: number;
  rms: number;
  bits?: number;
  tones?: [number, number, number][][];
  source?: string;
  lame_decoder?: { frames: number; lag: number; snr_db: number };
}

const decode = (name: string) => decodeAudio(fs.readFileSync(path.join(DIR, name)), name);
const sum = (x: Float32Array, f = (v: number) => v) => x.reduce((s, v) => s + f(v), 0);
const PCM_FILES = Object.keys(EXPECTED).filter((n) => EXPECTED[n].format !== 'mp3');

it('fixtures match their SHA256SUMS', () => {
  expect(verifySha256Sums(DIR).sort()).toEqual(
    fs
      .readdirSync(DIR)
      .filter((f) => f !== 'SHA256SUMS' && !f.endsWith('.py'))
      .sort(),
  );
});

describe.each(PCM_FILES)('%s', (name) => {
  const e = EXPECTED[name];
  let d: DecodedAudio;
  beforeAll(async () => {
    d = await decode(name);
  });

  it('decodes to the samples numpy wrote', () => {
    expect([d.format, d.sampleRate, d.channels.length, d.channels[0].length]).toEqual([e.format, e.sample_rate, e.channels, e.frames]);
    expect(d.durationS).toBeCloseTo(e.frames / e.sample_rate, 12);
    d.channels.forEach((ch, c) => {
      expect(Array.from(ch.subarray(0, 8))).toEqual(e.first[c]); // exact: float32 values numpy computed
      expect(ch[ch.length - 1]).toBe(e.last[c]);
      expect(sum(ch)).toBeCloseTo(e.sum[c], 9);
      expect(sum(ch, (v) => v * v)).toBeCloseTo(e.sumsq[c], 9);
    });
  });

  it('mixes to mono as the channel mean, with the peak and RMS numpy measured', () => {
    const mono = toMono(d.channels);
    expect(sum(mono)).toBeCloseTo(e.mono_sum, 9);
    expect(sum(mono, (v) => v * v)).toBeCloseTo(e.mono_sumsq, 9);
    const stats = audioStats(d.channels);
    expect(stats.peak).toBeCloseTo(e.peak, 12);
    expect(stats.rms).toBeCloseTo(e.rms, 12);
  });

  if (e.source) {
    it(`is bit-exact with ${e.source}`, async () => {
      expect((await decode(e.source!)).channels).toEqual(d.channels);
    });
  }

  if (e.tones && e.bits! >= 16) {
    it('loads as the analytic mono mix of its tones at 16 kHz (SNR ≥ 80 dB)', async () => {
      const audio = await loadAudio(path.join(DIR, name));
      const n = Math.ceil((e.frames * 16000) / e.sample_rate);
      expect([audio.samples.length, audio.sampleRate, audio.sourceRate, audio.channels]).toEqual([n, 16000, e.sample_rate, e.channels]);
      const perChannel = e.tones!.map((parts) => sines(16000, n, parts));
      const ref = perChannel[0].map((_, i) => perChannel.reduce((s, ch) => s + ch[i], 0) / perChannel.length);
      const err = ref.map((r, i) => audio.samples[i] - r);
      const [start, end] = [200, n - 200]; // the signal is zero outside the file: skip the filter's edge
      expect(db(rms(err, start, end) / rms(ref, start, end))).toBeLessThan(-80);
    });
  }
});

/** Lag d ≥ 0 maximising the correlation of y[d …] with x. */
function bestLag(x: Float32Array, y: Float32Array, maxLag: number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let d = 0; d < Math.min(maxLag, y.length); d++) {
    let s = 0;
    for (let i = 0; i < x.length && i + d < y.length; i++) s += x[i] * y[i + d];
    if (s > bestScore) [best, bestScore] = [d, s];
  }
  return best;
}

function snrDb(ref: Float32Array, y: Float32Array): number {
  const err = ref.map((r, i) => y[i] - r);
  return db(rms(ref) / rms(err));
}

describe('MP3 (mpg123-decoder, gapless)', () => {
  it('a LAME-tagged MP3 decodes to its source WAV: same length, no delay, the SNR LAME itself gets', async () => {
    const e = EXPECTED['digit-8k.mp3'];
    const [mp3, wav, lame] = await Promise.all(['digit-8k.mp3', e.source!, 'digit-8k.mp3.lame.wav'].map(decode));
    const [y, x] = [mp3.channels[0], wav.channels[0]];
    expect([mp3.format, mp3.sampleRate, mp3.channels.length]).toEqual(['mp3', 8000, 1]);
    expect(y.length).toBe(x.length); // encoder delay and padding trimmed from the LAME tag
    expect(y.length).toBe(e.lame_decoder!.frames);
    expect(bestLag(x, y, 1500)).toBe(0);
    expect(snrDb(x, y)).toBeCloseTo(e.lame_decoder!.snr_db, 0); // a 32 kb/s MP3 of 8 kHz speech: ~20 dB
    expect(snrDb(lame.channels[0], y)).toBeGreaterThan(60); // LAME's decoder, 16-bit: the same decode
  });

  it('an MP3 without the tag keeps the codec delay (576 + 529 samples) and frame padding', async () => {
    const e = EXPECTED['digit-8k-notag.mp3'];
    const [mp3, wav] = await Promise.all(['digit-8k-notag.mp3', e.source!].map(decode));
    const [y, x] = [mp3.channels[0], wav.channels[0]];
    expect(y.length % 576).toBe(0); // whole MPEG-2.5 layer III frames
    expect(y.length).toBe(e.lame_decoder!.frames + 529); // LAME's decoder drops the 529-sample decoder delay
    const lag = bestLag(x, y, 1500);
    expect(lag).toBe(576 + 529);
    expect(snrDb(x, y.subarray(lag, lag + x.length))).toBeCloseTo(e.lame_decoder!.snr_db, 0);
  });
});
