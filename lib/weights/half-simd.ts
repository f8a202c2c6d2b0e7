/**
 * float16 → float32 widening in WebAssembly SIMD, four values per instruction, for float16 stores read as float32
 * in JS (convert, backends without wavprobe's kernels): the table lookup in JS costs ~1.5–5 ns a value (XLS-R 1B:
 * 0.94 G values). One hand-assembled function (no toolchain needed) in a module with its own 384 KiB memory, for
 * JS arrays (halves copied in 64 Ki at a time, widened, copied out); on tfjs-wasm's heap, lib/kernels widens them
 * (kernels.c widen_halves, the same construction). Exact for every finite half, by construction — a normal
 * half's bits move up 13 places with the exponent rebiased by 112, a subnormal's |h| · 2^-24 is an exact product of
 * normal floats (no subnormal operand, so a flush-to-zero mode cannot touch it), an all-ones exponent becomes
 * float32's, and the sign moves to bit 31 — and checked against the table for all 65536 halves before first use.
 */

/** 64 Ki halves per call: 128 KiB in, 256 KiB out. */
const CHUNK = 65536;
export const SIMD_CHUNK = CHUNK;
const OUT = 2 * CHUNK; // byte offset of the float32 output in the module's memory

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const name = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
const splat = (u32: number): number[] => [
  0xfd,
  0x0c,
  ...Array.from({ length: 4 }, () => [u32 & 0xff, (u32 >>> 8) & 0xff, (u32 >>> 16) & 0xff, u32 >>> 24]).flat(),
];
const simd = (op: number): number[] => [0xfd, ...leb(op)];
const [
  V128_LOAD,
  V128_STORE,
  V128_AND,
  V128_OR,
  V128_BITSELECT,
  I32X4_EQ,
  EXTEND_LOW_U,
  EXTEND_HIGH_U,
  I32X4_SHL,
  I32X4_ADD,
  F32X4_MUL,
  F32X4_CONVERT_I32X4_S,
] = [0x00, 0x0b, 0x4e, 0x50, 0x52, 0x37, 0xa9, 0xaa, 0xab, 0xae, 0xe6, 0xfa];
const X = 5; // local: the four halves being widened, zero-extended to i32x4
/** Locals 6–11 hold the constants (set once, before the loop); local 12 is never set: zero. */
const CONSTANTS = [0x7fff, 0x38000000, 0x7c00, 0x7f800000, 0x8000, 0x33800000]; // |h|; 112 << 23; exponent; float32 exponent; sign; 2^-24
const [ABS, BIAS, EXP16, EXP32, SIGN, TINY, ZERO] = [6, 7, 8, 9, 10, 11, 12];
const get = (local: number): number[] => [0x20, local];

/** The four i32 halves on the stack → their float32 bits. */
const widen4 = [
  ...[0x21, X], // local.set x
  ...[...get(X), ...get(ABS), ...simd(V128_AND), ...simd(F32X4_CONVERT_I32X4_S), ...get(TINY), ...simd(F32X4_MUL)], // subnormal: |h| · 2^-24
  ...[...get(X), ...get(ABS), ...simd(V128_AND), 0x41, 13, ...simd(I32X4_SHL), ...get(BIAS), ...simd(I32X4_ADD)], // normal: exponent rebiased
  ...[...get(X), ...get(EXP16), ...simd(V128_AND), ...get(ZERO), ...simd(I32X4_EQ), ...simd(V128_BITSELECT)], // the first where the exponent is 0
  ...[...get(X), ...get(EXP16), ...simd(V128_AND), ...get(EXP16), ...simd(I32X4_EQ), ...get(EXP32), ...simd(V128_AND), ...simd(V128_OR)], // Inf/NaN
  ...[...get(X), ...get(SIGN), ...simd(V128_AND), 0x41, 16, ...simd(I32X4_SHL), ...simd(V128_OR)], // sign
];

const [SRC, DST, N, I, V] = [0, 1, 2, 3, 4]; // params src, dst, n (byte offsets, count); locals i (bytes of input done), v

/** (func (param $src i32) (param $dst i32) (param $n i32)): widens the n & ~7 halves at src into float32 at dst. */
const body = [
  ...[2, 1, 0x7f, 9, 0x7b], // locals: i (i32); v, x, the constants and zero (v128)
  ...CONSTANTS.flatMap((c, k) => [...splat(c), 0x21, ABS + k]),
  ...[0x02, 0x40, 0x03, 0x40], // block loop
  ...[...get(I), ...get(N), 0x41, 0x78, 0x71, 0x41, 1, 0x74, 0x4f, 0x0d, 1], // br_if 1 (i >= 2 (n & ~7))
  ...[...get(SRC), ...get(I), 0x6a, ...simd(V128_LOAD), 0, 0, 0x21, V], // v = load(src + i)
  ...[...get(DST), ...get(I), 0x41, 1, 0x74, 0x6a, ...get(V), ...simd(EXTEND_LOW_U), ...widen4, ...simd(V128_STORE), 0, 0],
  ...[...get(DST), ...get(I), 0x41, 1, 0x74, 0x6a, ...get(V), ...simd(EXTEND_HIGH_U), ...widen4, ...simd(V128_STORE), 0, 16],
  ...[...get(I), 0x41, 16, 0x6a, 0x21, I, 0x0c, 0], // i += 16; br 0
  ...[0x0b, 0x0b, 0x0b], // end loop, block, func
];

/** The module around `body`, with its own 384 KiB memory, exported as "m" beside the function "w". */
const OWN = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
  ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]), // type: (i32, i32, i32) → ()
  ...section(3, [1, 0]),
  ...section(5, [1, 0, 6]), // memory: 6 pages = 384 KiB
  ...section(7, [2, ...name('m'), 2, 0, ...name('w'), 0, 0]),
  ...section(10, [1, ...leb(body.length), ...body]),
]);

/**
 * A widener `(src, out) → void` into out's first src.length values, or null where WebAssembly SIMD is missing or
 * the module's output differs from `reference` (bits of the table, for finite halves) on any of the 65536 halves.
 */
export function simdHalfWidener(reference: Uint32Array): ((src: Uint16Array, out: Float32Array) => void) | null {
  let widen: (src: Uint16Array, out: Float32Array) => void;
  try {
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(OWN)) return null;
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(OWN));
    const memory = (exports.m as WebAssembly.Memory).buffer;
    const run = exports.w as (src: number, dst: number, n: number) => void;
    const input = new Uint16Array(memory, 0, CHUNK);
    const output = new Float32Array(memory, OUT, CHUNK);
    widen = (src, out) => {
      for (let at = 0; at < src.length; at += CHUNK) {
        const n = Math.min(CHUNK, src.length - at);
        input.set(src.subarray(at, at + n));
        run(0, OUT, n + 7); // whole groups of 8, the last one past n inside this memory
        out.set(output.subarray(0, n), at);
      }
    };
  } catch {
    return null;
  }
  const all = new Uint16Array(65536).map((_, h) => h);
  const got = new Float32Array(65536);
  widen(all, got);
  const bits = new Uint32Array(got.buffer);
  for (let h = 0; h < 65536; h++) {
    const finite = (h & 0x7c00) !== 0x7c00;
    if (finite ? bits[h] !== reference[h] : (bits[h] & 0x7f800000) !== 0x7f800000 || (h & 0x3ff ? !(bits[h] & 0x7fffff) : bits[h] !== reference[h]))
      return null;
  }
  return widen;
}
