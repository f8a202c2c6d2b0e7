/** Test helpers: analytic tones and a least-squares tone fit (a Goertzel-like measurement without leakage). */

// Hoisted: global lookups are slow in Jest's vm context, and these run per sample
const { sin, cos, PI } = Math;

/** Σ a·sin(2π f t + φ) sampled at `rate`, computed in float64, stored as float32. */
export function sines(rate: number, n: number, parts: [freq: number, amp: number, phase: number][]): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const [f, a, p] of parts) v += a * sin((2 * PI * f * i) / rate + p);
    out[i] = v;
  }
  return out;
}

export interface ToneFit {
  /** Amplitude and phase of a·sin(2π f t + φ) fitted to y[start..end). */
  amplitude: number;
  phase: number;
  /** RMS of what the tone does not explain. */
  residualRms: number;
}

/** Least-squares fit of c·cos + s·sin at a known frequency over samples [start, end). */
export function fitTone(y: Float32Array, rate: number, freq: number, start: number, end: number): ToneFit {
  let cc = 0,
    ss = 0,
    cs = 0,
    yc = 0,
    ys = 0;
  for (let i = start; i < end; i++) {
    const w = (2 * PI * freq * i) / rate;
    const c = cos(w),
      s = sin(w);
    cc += c * c;
    ss += s * s;
    cs += c * s;
    yc += y[i] * c;
    ys += y[i] * s;
  }
  const det = cc * ss - cs * cs;
  const a = (yc * ss - ys * cs) / det; // cos coefficient
  const b = (ys * cc - yc * cs) / det; // sin coefficient
  let res = 0;
  for (let i = start; i < end; i++) {
    const w = (2 * PI * freq * i) / rate;
    const r = y[i] - a * cos(w) - b * sin(w);
    res += r * r;
  }
  return { amplitude: Math.hypot(a, b), phase: Math.atan2(a, b), residualRms: Math.sqrt(res / (end - start)) };
}

export function rms(y: Float32Array | number[], start = 0, end = y.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += y[i] * y[i];
  return Math.sqrt(s / (end - start));
}

export function db(x: number): number {
  return 20 * Math.log10(x);
}

/** n evenly spaced values from lo to hi inclusive. */
export function linspace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}
