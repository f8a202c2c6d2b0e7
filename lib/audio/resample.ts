/**
 * Band-limited resampling by a rational factor L/M with a Kaiser-windowed sinc. Synchronous and deterministic;
 * float64 arithmetic, float32 out.
 *
 * Design, relative to the lower of the two Nyquist frequencies (f_N = min(from, to) / 2):
 *   passband 0 … 0.9·f_N, transition 0.9·f_N … f_N, stopband from f_N, 90 dB Kaiser design (≥ 90 dB measured).
 * So nothing above f_N survives: no aliasing when decimating, no images when interpolating.
 * Each row of taps is normalised to sum to 1 (DC passes exactly).
 * Timing: output sample n sits at input time n·from/to (no delay); the signal is zero outside its ends;
 * the output has ceil(length·to/from) samples. from === to returns the input array itself.
 *
 * Polyphase table: one row of taps per output phase (L rows), built on first use and kept for the next call at the
 * same rates. Coprime rates need L = `to` rows (44101 -> 16000 Hz: 16000 rows of 316 taps; 767999 Hz:
 * of 5488), so the table is capped at RESAMPLER.tableTaps: beyond it, it holds K < L rows at fractions r/K of an
 * input sample, and each output interpolates linearly between the two rows around its phase. Rows get longer as
 * from/to grows while the spacing they need widens as much, so the cap leaves ≥ 800 rows per sinc zero crossing
 * for any two supported rates: outputs within -127 dB of the exact rows' at worst (767999 Hz -> 1 kHz), -140 dB for
 * a 16 kHz output (spec/audio/resample.spec.ts checks -120 dB against a direct float64 evaluation).
 */
import { UsageError } from '../errors';

export const RESAMPLER = {
  /** Passband edge and stopband edge as fractions of the lower Nyquist frequency. */
  passband: 0.9,
  stopband: 1.0,
  /** Kaiser design attenuation, dB. */
  designAttenuationDb: 90,
  /** Most float64 taps one design's table holds (2 MiB); KEEP_DESIGNS designs are kept. */
  tableTaps: 2 ** 18,
};

/**
 * The sample rates wavprobe reads and resamples between, in Hz. Below 1 kHz no speech band is left; 768 kHz is the
 * highest rate audio interfaces record. The filter's length grows with the ratio: at most 87,782 taps (768 kHz ->
 * 1 kHz), 5,488 for 768 kHz -> 16 kHz; with the table cap this bounds the resampler's memory for any pair.
 */
export const SUPPORTED_RATES = { min: 1000, max: 768000 };

/** Why `rate` is not a supported sample rate, or undefined when it is. */
export function unsupportedRate(rate: number): string | undefined {
  if (Number.isInteger(rate) && rate >= SUPPORTED_RATES.min && rate <= SUPPORTED_RATES.max) return undefined;
  return `unsupported sample rate: ${rate} Hz (wavprobe reads ${SUPPORTED_RATES.min} to ${SUPPORTED_RATES.max} Hz)`;
}

export function resample(x: Float32Array, from: number, to: number): Float32Array {
  checkRate(from, 'from');
  checkRate(to, 'to');
  if (from === to) return x;
  const g = gcd(from, to);
  const up = to / g; // L: output phases per input sample step
  const down = from / g; // M: input samples per L outputs
  const { halfTaps, phases, rows, row } = filterFor(from, to);
  const out = new Float32Array(resampledLength(x.length, from, to));
  const baseStep = Math.floor(down / up);
  const phaseStep = down % up;
  // Output n sits at input time base + phase/up, base = floor(n·down/up), phase = n·down mod up; that is
  // (r + w)/phases with r a table row and w ∈ [0, 1) (always 0 when phases = up). No Math.* in this loop: global
  // lookups are slow inside Jest's vm context.
  for (let n = 0, base = 0, phase = 0; n < out.length; n++) {
    const pos = phase * phases; // < 768000 · 2^18: exact
    const rem = pos % up;
    const r = (pos - rem) / up;
    const taps = (rows[r] ??= row(r / phases)); // [2·halfTaps]
    const k0 = base - halfTaps + 1; // input index of taps[0]
    const jStart = k0 < 0 ? -k0 : 0;
    const jEnd = x.length - k0 < taps.length ? x.length - k0 : taps.length;
    let acc = 0;
    for (let j = jStart; j < jEnd; j++) acc += taps[j] * x[k0 + j];
    if (rem !== 0) {
      const next = (rows[r + 1] ??= row((r + 1) / phases));
      let accNext = 0;
      for (let j = jStart; j < jEnd; j++) accNext += next[j] * x[k0 + j];
      acc += (rem / up) * (accNext - acc);
    }
    out[n] = acc;
    base += baseStep;
    phase += phaseStep;
    if (phase >= up) {
      phase -= up;
      base++;
    }
  }
  return out;
}

/** Number of samples resample() returns for `n` input samples. */
export function resampledLength(n: number, from: number, to: number): number {
  if (from === to) return n;
  const g = gcd(from, to);
  return Math.ceil((n * (to / g)) / (from / g));
}

interface Filter {
  halfTaps: number;
  /** Taps for an output at fractional input position `frac` ∈ [0, 1]: taps[j] weighs x[base - halfTaps + 1 + j]. */
  row(frac: number): Float64Array;
  /** Table rows per input sample: L when L rows fit in tableTaps, else fewer, interpolated between. */
  phases: number;
  /** row(r / phases) for r = 0 … phases, filled on first use. */
  rows: (Float64Array | undefined)[];
}

/** Designs are reused across calls (a batch of files usually shares one rate); the last few are kept. */
const designs = new Map<string, Filter>();
const KEEP_DESIGNS = 4;

function filterFor(from: number, to: number): Filter {
  const key = `${from}:${to}`;
  let filter = designs.get(key);
  if (!filter) {
    filter = design(from, to);
    if (designs.size >= KEEP_DESIGNS) designs.delete(designs.keys().next().value!);
    designs.set(key, filter);
  }
  return filter;
}

function design(from: number, to: number): Filter {
  const nyquist = Math.min(from, to) / 2;
  const cutoff = (((RESAMPLER.passband + RESAMPLER.stopband) / 2) * nyquist) / from; // cycles per input sample
  const transition = ((RESAMPLER.stopband - RESAMPLER.passband) * nyquist) / from; // cycles per input sample
  const a = RESAMPLER.designAttenuationDb;
  const beta = 0.1102 * (a - 8.7); // Kaiser's formula for a > 50 dB
  const length = (a - 7.95) / (2.285 * 2 * Math.PI * transition); // taps, Kaiser's estimate
  const halfTaps = Math.ceil(length / 2);
  const i0Beta = besselI0(beta);
  const up = to / gcd(from, to);
  const phases = up * 2 * halfTaps <= RESAMPLER.tableTaps ? up : Math.floor(RESAMPLER.tableTaps / (2 * halfTaps)) - 1;
  return {
    halfTaps,
    phases,
    rows: new Array(phases + 1),
    row(frac) {
      const row = new Float64Array(2 * halfTaps);
      let sum = 0;
      for (let j = 0; j < row.length; j++) {
        const t = frac + halfTaps - 1 - j; // time from the input sample to the output, in input samples
        const u = t / halfTaps;
        const window = Math.abs(u) < 1 ? besselI0(beta * Math.sqrt(1 - u * u)) / i0Beta : 0;
        row[j] = 2 * cutoff * sinc(2 * cutoff * t) * window;
        sum += row[j];
      }
      for (let j = 0; j < row.length; j++) row[j] /= sum;
      return row;
    },
  };
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function checkRate(rate: number, name: string): void {
  if (unsupportedRate(rate)) {
    throw new UsageError(`resample: ${name} rate must be an integer from ${SUPPORTED_RATES.min} to ${SUPPORTED_RATES.max} Hz, got ${rate}`);
  }
}
