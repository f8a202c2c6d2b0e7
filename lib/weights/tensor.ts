/**
 * Host-side tensors: weights live in the JS heap until a model uploads them to the backend, as float32, or (from a
 * float16 store) as their IEEE half bits, widened to float32 only when uploaded (hostFloats).
 */
import { CheckpointError } from '../errors';
import { simdHalfWidener } from './half-simd';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** A float16 store's weight as stored: IEEE half bits, half the host memory of its float32 values. */
export interface HalfTensor {
  shape: number[];
  half: Uint16Array;
}

export type HostWeight = HostTensor | HalfTensor;

/** A model's weights by HuggingFace key (prefix stripped), in the layouts lib/models expects (see keymap.ts). */
export type WeightSet = Map<string, HostTensor>;

/** What reads weights by key needs of a weight set: a WeightSet, or weights read on demand (OpenCheckpoint). */
export type WeightLookup = Pick<WeightSet, 'keys' | 'get'>;

/** A weight set that may keep a float16 store's weights as halves (what a model is built from: lib/models). */
export type HostWeightSet = Map<string, HostWeight>;

/** A weight's float32 values: its data, or its halves widened (exactly: every half is a float32). */
export function hostFloats(t: HostWeight): Float32Array {
  return 'half' in t ? float16ToFloat32(t.half) : t.data;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The most values one weight may hold: 2^28 (1 GiB as float32). The largest weight of the largest published model
 * (XLS-R 2B's 1920 × 7680 feed-forward) has 15 M; the config caps (config.ts) keep every weight under this.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** Throws naming the tensor and its first NaN or ±Inf: one such weight makes every output NaN. */
export function checkFinite(name: string, data: Float32Array, file: string): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) throw new CheckpointError(`${name}: non-finite value ${x} at index ${i}`, file);
  }
}

/** checkFinite on a float16 weight's halves (all-ones exponent: ±Inf or NaN), with the same message. */
export function checkFiniteHalf(name: string, half: Uint16Array, file: string): void {
  for (let i = 0; i < half.length; i++) {
    if ((half[i] & 0x7c00) === 0x7c00) throw new CheckpointError(`${name}: non-finite value ${halfToFloat(half[i])} at index ${i}`, file);
  }
}

/** IEEE half → float32 of one value. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal (or zero)
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let halfBits: Uint32Array | null = null;
let simdWiden: ((src: Uint16Array, out: Float32Array) => void) | null = null;

/**
 * IEEE half → float32, exactly, into `out`'s first src.length values when given: in WebAssembly SIMD (half-simd.ts,
 * ~2–4× the table) where it is available and checked, else through a table of all 65536 halves (computing each was
 * ~40× slower). Both move bits, never a double, so every finite half comes out the same; a NaN stays a NaN.
 */
export function float16ToFloat32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  if (!halfBits) {
    const table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
    halfBits = new Uint32Array(table.buffer);
    simdWiden = simdHalfWidener(halfBits);
  }
  if (out.length < src.length) throw new RangeError(`float16ToFloat32: ${src.length} values into ${out.length}`);
  if (simdWiden && src.length >= 64) simdWiden(src, out);
  else {
    const table = halfBits;
    const bits = new Uint32Array(out.buffer, out.byteOffset, src.length);
    for (let i = 0; i < src.length; i++) bits[i] = table[src[i]];
  }
  return out.length === src.length ? out : out.subarray(0, src.length);
}

/** float32 → IEEE half with round-to-nearest-even (overflow to ±Inf). */
export function float32ToFloat16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < src.length; i++) {
    f[0] = src[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000; // implicit bit, then shift into the subnormal range
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      let m = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      if (rest > half || (rest === half && m & 1)) m++;
      out[i] = sign | m;
      continue;
    }
    let m = mant >>> 13;
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
      m++;
      if (m === 0x400) {
        m = 0;
        e++;
        if (e >= 31) {
          out[i] = sign | 0x7c00;
          continue;
        }
      }
    }
    out[i] = sign | (e << 10) | m;
  }
  return out;
}

/** bfloat16 → float32: the top 16 bits of a float32. */
export function bfloat16ToFloat32(src: Uint16Array): Float32Array {
  const u = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) u[i] = src[i] << 16;
  return new Float32Array(u.buffer);
}

/** Little-endian raw bytes of dtype → float32 (copies, so the result is aligned and owned). */
export function decodeFloats(bytes: Uint8Array, dtype: 'F32' | 'F16' | 'BF16'): Float32Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (dtype === 'F32') return new Float32Array(copy.buffer);
  const halves = new Uint16Array(copy.buffer);
  return dtype === 'F16' ? float16ToFloat32(halves) : bfloat16ToFloat32(halves);
}
