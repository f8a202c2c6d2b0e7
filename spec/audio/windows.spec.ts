import { windows } from '../../lib/audio';
import { UsageError } from '../../lib/errors';

const signal = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
const starts = (n: number, opts: Parameters<typeof windows>[1]) => [...windows(signal(n), opts)].map((w) => w.start);
const RATE = 1000; // 1 sample = 1 ms, so the arithmetic below is readable

describe('windows', () => {
  it('cuts full windows at every hop and shifts the last one back to end at the last sample', () => {
    const ws = [...windows(signal(2700), { windowS: 1, hopS: 0.5, sampleRate: RATE })];
    expect(ws.map((w) => w.start)).toEqual([0, 500, 1000, 1500, 1700]);
    expect(ws[4].samples[999]).toBe(2699);
  });

  it('adds the end-aligned window only when the regular ones leave a tail', () => {
    expect(starts(2500, { windowS: 1, hopS: 0.5, sampleRate: RATE })).toEqual([0, 500, 1000, 1500]);
    expect(starts(3000, { windowS: 1, sampleRate: RATE })).toEqual([0, 1000, 2000]);
    expect(starts(3001, { windowS: 1, sampleRate: RATE })).toEqual([0, 1000, 2000, 2001]);
  });

  it('every window is full length, a view of the signal, and together they cover every sample', () => {
    const x = signal(2750);
    const covered = new Uint8Array(x.length);
    for (const w of windows(x, { windowS: 0.4, overlapS: 0.1, sampleRate: RATE })) {
      expect(w.samples.length).toBe(400);
      expect(w.samples.buffer).toBe(x.buffer);
      expect(w.samples[0]).toBe(w.start);
      covered.fill(1, w.start, w.start + 400);
    }
    expect(covered.every((c) => c === 1)).toBe(true);
  });

  it('overlapS is window minus hop', () => {
    expect(starts(2000, { windowS: 0.4, overlapS: 0.1, sampleRate: RATE })).toEqual(starts(2000, { windowS: 0.4, hopS: 0.3, sampleRate: RATE }));
  });

  it('audio shorter than one window, or windowS Infinity (whole-file mode), is one window of all of it', () => {
    for (const opts of [
      { windowS: 5, sampleRate: RATE },
      { windowS: Infinity, sampleRate: RATE },
    ]) {
      const x = signal(1234);
      const ws = [...windows(x, opts)];
      expect(ws).toHaveLength(1);
      expect(ws[0].start).toBe(0);
      expect(ws[0].samples).toBe(x);
    }
  });

  it('rejects impossible settings', () => {
    const x = signal(100);
    expect(() => [...windows(x, { windowS: 0, sampleRate: RATE })]).toThrow(UsageError);
    expect(() => [...windows(x, { windowS: 0.01, hopS: 0.02, sampleRate: RATE })]).toThrow(/hop must be between/);
    expect(() => [...windows(x, { windowS: 0.01, overlapS: 0.01, sampleRate: RATE })]).toThrow(/hop must be between/);
    expect(() => [...windows(x, { windowS: 0.01, hopS: 0.005, overlapS: 0.005, sampleRate: RATE })]).toThrow(/not both/);
    expect(() => [...windows(x, { windowS: 0.0001, sampleRate: RATE })]).toThrow(/under one sample/);
  });
});
