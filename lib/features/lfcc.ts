/**
 * LFCC front-end of the ASVspoof 2019 LFCC-GMM baseline (Sahidullah, Kinnunen & Hanilçi, Interspeech 2015; the
 * organisers' MATLAB `extract_lfcc(x, fs, 20, 512, 20)`), step for step:
 *   1. pre-emphasis y[n] = x[n] − 0.97·x[n−1] (x[−1] = 0);
 *   2. frames of 20 ms (320 samples at 16 kHz) every half frame (160, 10 ms), as MATLAB `buffer(y, L, L/2,
 *      'nodelay')`: the first frame starts at sample 0, T = max(1, ceil((N − overlap) / hop)), the last frame is
 *      zero-padded; each frame times a symmetric Hamming window 0.54 − 0.46·cos(2πn/(L−1));
 *   3. power spectrum |FFT₅₁₂|² of bins 0…256;
 *   4. 20 triangular filters with edges linearly spaced over 0…fs/2 (22 edges, filter i spans edges i…i+2,
 *      peak 1 at the middle one), evaluated at the bin frequencies k·fs/nfft;
 *   5. log10(filter energy + 2⁻⁵²) (MATLAB's eps as the floor);
 *   6. orthonormal DCT-II (MATLAB `dct`), keeping all 20 coefficients (c0 included);
 *   7. deltas and delta-deltas with a 3-frame window as the baseline's `deltas(x, 3)`: d[t] = c[t+1] − c[t−1]
 *      with the first/last frame repeated at the edges (no normalising factor).
 * A frame is [static 20, delta 20, delta-delta 20] = 60 values.
 */
import FFT from 'fft.js';
import { AudioDecodeError } from '../errors';
import { meanPool } from './pool';

export interface LfccOptions {
  /** Window length in ms (default 20); the hop is half of it. */
  windowMs?: number;
  /** FFT size, a power of two not below the window length in samples (default 512). */
  nfft?: number;
  /** Number of linear triangular filters (default 20). */
  filters?: number;
  /** Cepstral coefficients kept, c0 first (default 20, at most `filters`). */
  coeffs?: number;
  /** Pre-emphasis coefficient (default 0.97; 0 turns it off). */
  preEmphasis?: number;
}

export interface LfccPoolOptions extends LfccOptions {
  /** Append the per-dimension standard deviation over frames (population) to the mean: 120 values instead of 60. */
  std?: boolean;
}

export interface LfccFrames {
  /** [frames, dims] row-major */
  data: Float32Array;
  frames: number;
  dims: number;
}

const LOG_FLOOR = 2 ** -52;

/** Triangular filters as dense weights [filters][nfft/2 + 1] (MATLAB `trimf` on linearly spaced edges). */
function linearFilterbank(filters: number, nfft: number, sampleRate: number): Float64Array[] {
  const bins = nfft / 2 + 1;
  const nyquist = sampleRate / 2;
  const edge = (i: number) => (i * nyquist) / (filters + 1);
  return Array.from({ length: filters }, (_, i) => {
    const [a, b, c] = [edge(i), edge(i + 1), edge(i + 2)];
    const w = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      const f = (k * nyquist) / (bins - 1);
      w[k] = Math.max(0, Math.min((f - a) / (b - a), (c - f) / (c - b)));
    }
    return w;
  });
}

/** Orthonormal DCT-II basis rows 0…coeffs−1 over n inputs, [coeffs][n]. */
function dctBasis(coeffs: number, n: number): Float64Array[] {
  return Array.from({ length: coeffs }, (_, i) => {
    const scale = Math.sqrt((i === 0 ? 1 : 2) / n);
    return Float64Array.from({ length: n }, (_, j) => scale * Math.cos((Math.PI * i * (2 * j + 1)) / (2 * n)));
  });
}

/** The baseline's 3-point delta along time: out[t] = x[t+1] − x[t−1], edges repeated. x and out are [T, C]. */
function delta3(x: Float64Array, T: number, C: number): Float64Array {
  const out = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    const next = Math.min(t + 1, T - 1) * C;
    const prev = Math.max(t - 1, 0) * C;
    for (let c = 0; c < C; c++) out[t * C + c] = x[next + c] - x[prev + c];
  }
  return out;
}

/** LFCC frames with deltas and delta-deltas: [T, 3·coeffs] (60 dims with the defaults). */
export function lfccFrames(samples: Float32Array, sampleRate = 16000, opts: LfccOptions = {}): LfccFrames {
  const { windowMs = 20, nfft = 512, filters = 20, coeffs = 20, preEmphasis = 0.97 } = opts;
  const L = Math.round((sampleRate * windowMs) / 1000);
  const hop = Math.floor(L / 2);
  if (hop < 1) throw new RangeError(`lfcc: a ${windowMs} ms window at ${sampleRate} Hz is under 2 samples`);
  if (nfft < L || nfft & (nfft - 1)) {
    throw new RangeError(`lfcc: nfft must be a power of two ≥ the window (${L} samples), got ${nfft}`);
  }
  if (!(coeffs >= 1 && coeffs <= filters)) {
    throw new RangeError(`lfcc: coeffs must be in 1…filters (${filters}), got ${coeffs}`);
  }
  const N = samples.length;
  if (N === 0) throw new AudioDecodeError('no samples to compute LFCC features from');

  const T = Math.max(1, Math.ceil((N - (L - hop)) / hop));
  const bins = nfft / 2 + 1;
  const window = Float64Array.from({ length: L }, (_, n) => 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (L - 1)));
  const bank = linearFilterbank(filters, nfft, sampleRate);
  const basis = dctBasis(coeffs, filters);
  const fft = new FFT(nfft);
  const frame = new Array<number>(nfft).fill(0);
  const spectrum = fft.createComplexArray() as number[]; // [nfft] complex, interleaved re/im
  const power = new Float64Array(bins);
  const logE = new Float64Array(filters);
  const cep = new Float64Array(T * coeffs); // [T, coeffs]
  const emphasised = (n: number) => (n < N ? samples[n] - (n > 0 ? preEmphasis * samples[n - 1] : 0) : 0);

  for (let t = 0; t < T; t++) {
    for (let n = 0; n < L; n++) frame[n] = emphasised(t * hop + n) * window[n];
    fft.realTransform(spectrum, frame);
    for (let k = 0; k < bins; k++) power[k] = spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2;
    for (let j = 0; j < filters; j++) {
      let e = 0;
      for (let k = 0; k < bins; k++) e += power[k] * bank[j][k];
      logE[j] = Math.log10(e + LOG_FLOOR);
    }
    for (let i = 0; i < coeffs; i++) {
      let s = 0;
      for (let j = 0; j < filters; j++) s += basis[i][j] * logE[j];
      cep[t * coeffs + i] = s;
    }
  }

  const d1 = delta3(cep, T, coeffs);
  const d2 = delta3(d1, T, coeffs);
  const dims = 3 * coeffs;
  const data = new Float32Array(T * dims); // [T, static | delta | delta-delta]
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < coeffs; c++) {
      data[t * dims + c] = cep[t * coeffs + c];
      data[t * dims + coeffs + c] = d1[t * coeffs + c];
      data[t * dims + 2 * coeffs + c] = d2[t * coeffs + c];
    }
  }
  return { data, frames: T, dims };
}

/** Utterance vector: the mean LFCC frame (60 values), with `std` also the population std over frames (120). */
export function lfccPooled(samples: Float32Array, sampleRate = 16000, opts: LfccPoolOptions = {}): Float32Array {
  const { data, frames, dims } = lfccFrames(samples, sampleRate, opts);
  const mean = meanPool(data, frames, dims, frames); // [dims]
  if (!opts.std) return mean;
  const out = new Float32Array(2 * dims);
  out.set(mean);
  for (let d = 0; d < dims; d++) {
    let ss = 0;
    for (let t = 0; t < frames; t++) ss += (data[t * dims + d] - mean[d]) ** 2;
    out[dims + d] = Math.sqrt(ss / frames);
  }
  return out;
}
