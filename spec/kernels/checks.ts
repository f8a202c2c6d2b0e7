/**
 * The kernel checks, shared by the in-process spec (1 thread) and its 2-thread child: each kernel against a
 * float64 computation, on shapes that hit the awkward paths (ragged last panel, fewer than 4 rows, K beyond one
 * K block, overlapping conv rows, a GELU length that is no multiple of 4) and are big enough to be split over
 * the worker threads when there are any.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../../lib/random';
import { conv1d, groupedConv1d, packGroupedFilter } from '../../lib/nn/conv';
import { attentionCore } from '../../lib/nn/attention';
import { gelu } from '../../lib/nn/gelu';
import { layerNorm, layerNormGelu, momentsOverTime } from '../../lib/nn/norm';
import { matMul, packHalfWeight, packWeight } from '../../lib/nn/linear';
import { float32ToFloat16 } from '../../lib/weights/tensor';
import { REF } from '../helpers/nn-reference';
import { runKernel, widenHalves } from '../../lib/kernels';

const seeded = (n: number, seed: number) => {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => 2 * rand() - 1);
};

/** An IEEE half's value from its fields, in float64 (NaN for all NaNs). */
function halfValue(h: number): number {
  const [sign, exp, mant] = [h >> 15 ? -1 : 1, (h >> 10) & 0x1f, h & 0x3ff];
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return exp ? sign * 2 ** (exp - 15) * (1 + mant / 1024) : sign * 2 ** -14 * (mant / 1024);
}

/** Values of got that are not exactly want's (a NaN matches any NaN); Infinity when the lengths differ. */
function mismatches(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let bad = got.length === want.length ? 0 : Infinity;
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i]) && !(isNaN(got[i]) && isNaN(want[i]))) bad++;
  return bad;
}

/** All 65536 halves as a weight [8192, 8] (one panel: the packed layout is the row-major one), packed from halves: values that are not exactly the half's. */
function halfPackMismatches(): number {
  const halves = Uint16Array.from({ length: 65536 }, (_, i) => i);
  return mismatches(
    tf.tidy(() => packHalfWeight(halves, [8192, 8])!.dataSync()),
    Array.from(halves, halfValue),
  );
}

/** Strassen's blocks packed from halves (all 65536 of them, in a weight [512, 256]) against those packed from their float32 values: differing values. */
function halfStrassenMismatches(): number {
  const halves = Uint16Array.from({ length: 512 * 256 }, (_, i) => (i * 40503) & 0xffff);
  const [got, want] = tf.tidy(() => [
    packHalfWeight(halves, [512, 256], { strassen: true })!.dataSync(),
    packWeight(tf.tensor2d(Float32Array.from(halves, halfValue), [512, 256]), { strassen: true }).dataSync(),
  ]);
  return mismatches(got, want);
}

/** All 65536 halves and one more (an odd count: the last alone, past the groups of 8) widened on the kernels, from an unaligned view: values that are not exactly the half's. */
function halfWidenMismatches(): number {
  const halves = Uint16Array.from({ length: 65540 }, (_, i) => (i + 65535) & 0xffff).subarray(1, 65538); // 0 … 65535, 0
  return mismatches(
    tf.tidy(() => widenHalves(halves, [65537])!.dataSync()),
    Array.from(halves, halfValue),
  );
}

/**
 * max |got − exact| / Σ_k |a·b| over the outputs: the GEMM's error relative to the scale of its sums. weight:
 * as given, packed at load, or stored as halves and packed from them (then b is its halves' values).
 */
function gemmError(M: number, K: number, N: number, withBias: boolean, weight: 'plain' | 'packed' | 'half' | 'strassen' = 'plain'): number {
  const [a, bias] = [seeded(M * K, 1), seeded(N, 3)];
  const halves = float32ToFloat16(seeded(K * N, 2));
  const b = weight === 'half' ? Float32Array.from(halves, halfValue) : seeded(K * N, 2); // exact: every half is a float32
  const got = tf.tidy(() => {
    const dense = () => tf.tensor2d(b, [K, N]);
    const w = {
      plain: dense,
      packed: () => packWeight(dense()),
      strassen: () => packWeight(dense(), { strassen: true }),
      half: () => packHalfWeight(halves, [K, N])!,
    }[weight]();
    return matMul(tf.tensor2d(a, [M, K]), w, withBias ? tf.tensor1d(bias) : undefined).dataSync();
  });
  let worst = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = withBias ? bias[j] : 0;
      let scale = Math.abs(sum);
      for (let k = 0; k < K; k++) {
        sum += a[i * K + k] * b[k * N + j];
        scale += Math.abs(a[i * K + k] * b[k * N + j]);
      }
      worst = Math.max(worst, Math.abs(got[i * N + j] - sum) / scale);
    }
  }
  return worst;
}

/** conv1d (two batch rows) against the direct float64 sum, error relative to Σ|x·w| per output. */
function convError(T: number, Cin: number, K: number, Cout: number, stride: number): number {
  const B = 2;
  const [x, w, bias] = [seeded(B * T * Cin, 4), seeded(K * Cin * Cout, 5), seeded(Cout, 6)];
  const got = tf.tidy(() => conv1d(tf.tensor3d(x, [B, T, Cin]), tf.tensor3d(w, [K, Cin, Cout]), stride, tf.tensor1d(bias)).dataSync());
  const Tout = Math.floor((T - K) / stride) + 1;
  let worst = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < Tout; t++) {
      for (let o = 0; o < Cout; o++) {
        let sum = bias[o];
        let scale = Math.abs(sum);
        for (let k = 0; k < K; k++) {
          for (let c = 0; c < Cin; c++) {
            const p = x[(b * T + t * stride + k) * Cin + c] * w[(k * Cin + c) * Cout + o];
            sum += p;
            scale += Math.abs(p);
          }
        }
        worst = Math.max(worst, Math.abs(got[(b * Tout + t) * Cout + o] - sum) / scale);
      }
    }
  }
  return worst;
}

/** The kernel-3 stride-2 conv's GELU epilogue (Strassen's route) against GELU as its own pass. */
function convGeluError(): number {
  const [T, Cin, Cout] = [301, 24, 48];
  const [x, w, bias] = [seeded(2 * T * Cin, 17), seeded(3 * Cin * Cout, 18), seeded(Cout, 19)];
  const [fused, separate] = tf.tidy(() => {
    const args = [tf.tensor3d(x, [2, T, Cin]), tf.tensor3d(w, [3, Cin, Cout]), 2, tf.tensor1d(bias)] as const;
    return [conv1d(...args, { gelu: true }).dataSync(), gelu(conv1d(...args)).dataSync()];
  });
  return Array.from(fused as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - separate[i])), 0);
}

/** A grouped conv's shape: batch rows, frames, channels, groups, taps, padding; frames out = T + 2·pad − taps (one fewer than the conv gives). */
type GroupedShape = [B: number, T: number, C: number, G: number, taps: number, pad: number];

/**
 * Grouped conv against float64, relative to Σ|x·w|, and its GELU epilogue against GELU as its own pass; `fft`: the
 * filter as packGroupedFilter() makes it (through the FFT where it qualifies). Default shape: 2 batch rows, 3 groups
 * of 20 channels (no multiple of 4); 110 taps (K = 2200 spans two K blocks, split inside a tap); 55 frames of padding.
 */
function groupedConvErrors(
  [B, T, C, G, taps, pad]: GroupedShape = [2, 30, 60, 3, 110, 55],
  fft = false,
  workBytes?: number,
): [plain: number, fused: number] {
  const cg = C / G;
  const [x, w, bias] = [seeded(B * T * C, 14), seeded(taps * cg * C, 15), seeded(C, 16)];
  const frames = T + 2 * pad - taps;
  const [got, fused, separate] = tf.tidy(() => {
    const filter = tf.tensor3d(w, [taps, cg, C]);
    const args = [tf.tensor3d(x, [B, T, C]), fft ? packGroupedFilter(filter) : filter, G, pad, tf.tensor1d(bias)] as const;
    const conv = (gelu = false) =>
      workBytes // the kernel itself, to hold few blocks at once
        ? runKernel<tf.Tensor3D>('WavprobeFftConv', { x: args[0], spectrum: args[1], bias: args[4] }, { taps, pad, frames, gelu, workBytes })
        : groupedConv1d(...args, { frames, gelu });
    const y = conv();
    return [y.dataSync(), conv(true).dataSync(), gelu(y).dataSync()];
  });
  let worst = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < frames; t++) {
      for (let o = 0; o < C; o++) {
        const g = Math.floor(o / cg);
        let sum = bias[o];
        let scale = Math.abs(sum);
        for (let j = 0; j < taps; j++) {
          const ti = t + j - pad;
          if (ti < 0 || ti >= T) continue;
          for (let c = 0; c < cg; c++) {
            const p = x[(b * T + ti) * C + g * cg + c] * w[(j * cg + c) * C + o];
            sum += p;
            scale += Math.abs(p);
          }
        }
        worst = Math.max(worst, Math.abs(got[(b * frames + t) * C + o] - sum) / scale);
      }
    }
  }
  return [worst, Array.from(fused as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - separate[i])), 0)];
}

/**
 * The attention core (2 batch rows, 3 heads of 12: a ragged last V panel; 37 frames: a last tile of one query and a
 * ragged last key panel; keys masked in row 1; the gated position bias) against float64, relative to max |v|.
 */
function attentionError(): number {
  const [B, T, heads, d] = [2, 37, 3, 12];
  const H = heads * d;
  const [q, k, v, pos, gate] = [
    seeded(B * T * H, 21),
    seeded(B * T * H, 22),
    seeded(B * T * H, 23),
    seeded(heads * T * T, 24),
    seeded(B * heads * T, 25),
  ];
  const key = Float32Array.from({ length: B * T }, (_, i) => (i >= T + 30 ? -1e9 : 0)); // row 1's last 7 keys masked
  const scale = 1 / Math.sqrt(d);
  const got = tf.tidy(() => {
    const t = (x: Float32Array) => tf.tensor3d(x, [B, T, H]);
    const position = { bias: tf.tensor3d(pos, [heads, T, T]), gate: tf.tensor3d(gate, [B, heads, T]) };
    return attentionCore(t(q), t(k), t(v), heads, { keyBias: tf.tensor2d(key, [B, T]), position }).dataSync();
  });
  let worst = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < T; i++) {
        const at = (x: Float32Array, t: number, c: number) => x[(b * T + t) * H + h * d + c];
        const s = Array.from({ length: T }, (_, j) => {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += at(q, i, c) * at(k, j, c);
          return dot * scale + gate[(b * heads + h) * T + i] * pos[(h * T + i) * T + j] + key[b * T + j];
        });
        const max = Math.max(...s);
        const e = s.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, x) => a + x, 0);
        for (let c = 0; c < d; c++) {
          const want = e.reduce((a, x, j) => a + x * at(v, j, c), 0) / sum;
          worst = Math.max(worst, Math.abs(got[(b * T + i) * H + h * d + c] - want));
        }
      }
    }
  }
  return worst / v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

/** GELU on the float64 reference points tiled to 100,003 values: max |error| / max(1, |x|). */
function geluError(): number {
  const xs: number[] = REF.erf.x.data;
  const want: number[] = REF.erf.gelu.data;
  const n = 100003;
  const x = Float32Array.from({ length: n }, (_, i) => xs[i % xs.length]);
  const got = tf.tidy(() => gelu(tf.tensor1d(x)).dataSync());
  let worst = 0;
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - want[i % xs.length]) / Math.max(1, Math.abs(x[i])));
  return worst;
}

/** Layer norm over 257 channels (no multiple of 4) against float64; the fused GELU against gelu(layerNorm). */
function layerNormErrors(): [plain: number, fused: number] {
  const [rows, C, eps] = [300, 257, 1e-5];
  const [x, gamma, beta] = [seeded(rows * C, 7).map((v, i) => 3 * v + (i % C) / 50), seeded(C, 8), seeded(C, 9)];
  const [got, fused, unfused] = tf.tidy(() => {
    const args = [tf.tensor2d(x, [rows, C]), tf.tensor1d(gamma), tf.tensor1d(beta), eps] as const;
    return [layerNorm(...args).dataSync(), layerNormGelu(...args).dataSync(), gelu(layerNorm(...args)).dataSync()];
  });
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < C; c++) mean += x[r * C + c] / C;
    let variance = 0;
    for (let c = 0; c < C; c++) variance += (x[r * C + c] - mean) ** 2 / C;
    for (let c = 0; c < C; c++)
      worst = Math.max(worst, Math.abs(got[r * C + c] - ((x[r * C + c] - mean) / Math.sqrt(variance + eps)) * gamma[c] - beta[c]));
  }
  return [worst, Array.from(fused as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - unfused[i])), 0)];
}

/** The GELU epilogue of a GEMM (ragged last panel, two K blocks) against GELU as its own pass. */
function epilogueError([M, K, N] = [37, 2100, 203], strassen = false): number {
  const [a, b, bias] = [seeded(M * K, 10), seeded(K * N, 11), seeded(N, 12)];
  const [fused, separate] = tf.tidy(() => {
    const w = strassen ? packWeight(tf.tensor2d(b, [K, N]), { strassen }) : tf.tensor2d(b, [K, N]);
    const args = [tf.tensor2d(a, [M, K]), w, tf.tensor1d(bias)] as const;
    return [matMul(...args, { gelu: true }).dataSync(), gelu(matMul(...args)).dataSync()];
  });
  return Array.from(fused as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - separate[i])), 0);
}

/** Mean and variance over time per row and channel ([2, 3000, 37], an offset 100× the spread) against float64. */
function momentsError(): number {
  const [B, T, C] = [2, 3000, 37];
  const x = seeded(B * T * C, 13).map((v, i) => 3 + 0.03 * v + (i % C));
  const [mean, variance] = tf.tidy(() => {
    const m = momentsOverTime(tf.tensor3d(x, [B, T, C]));
    return [m.mean.dataSync(), m.variance.dataSync()];
  });
  let worst = 0;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += x[(b * T + t) * C + c];
      const mu = s / T;
      let v = 0;
      for (let t = 0; t < T; t++) v += (x[(b * T + t) * C + c] - mu) ** 2 / T;
      worst = Math.max(worst, Math.abs(mean[b * C + c] - mu) / Math.abs(mu), Math.abs(variance[b * C + c] - v) / v);
    }
  }
  return worst;
}

export function kernelErrors(): Record<string, number> {
  const [norm, normGelu] = layerNormErrors();
  const [grouped, groupedGelu] = groupedConvErrors();
  return {
    'dense 37×2100·2100×203 + bias': gemmError(37, 2100, 203, true),
    'dense 3×5·5×8': gemmError(3, 5, 8, false),
    'dense 1×64·64×9 + bias': gemmError(1, 64, 9, true),
    'dense 9×2100·2100×200, weight packed at load': gemmError(9, 2100, 200, true, 'packed'),
    'dense 9×2100·2100×200, weight packed from halves': gemmError(9, 2100, 200, true, 'half'),
    'all 65536 halves widened exactly while packed (mismatches)': halfPackMismatches(),
    'all 65536 halves widened exactly, an odd count from an unaligned view (mismatches)': halfWidenMismatches(),
    "Strassen's blocks packed from halves as from their float32 values (mismatches)": halfStrassenMismatches(),
    // One level of Strassen: odd and even rows (the lower quadrants one row short), two K blocks in a half, the
    // 4-product form below 32 rows, an odd number of panels in a half, the GELU epilogue on each quadrant's last write.
    'Strassen 37×512·512×512 + bias': gemmError(37, 512, 512, true, 'strassen'),
    'Strassen 32×256·256×272': gemmError(32, 256, 272, false, 'strassen'),
    'Strassen 65×4200·4200×256 + bias (2 K blocks a half)': gemmError(65, 4200, 256, true, 'strassen'),
    'Strassen 9×256·256×272 + bias (4-product form)': gemmError(9, 256, 272, true, 'strassen'),
    'Strassen 1×512·512×256 (4-product form)': gemmError(1, 512, 256, false, 'strassen'),
    'Strassen + GELU epilogue': epilogueError([37, 512, 256], true),
    'Strassen (4-product form) + GELU epilogue': epilogueError([7, 512, 256], true),
    // Kernel 3, stride 2 shares products between output pairs: odd and even frame counts, a ragged last panel.
    'conv k3 s2 64→48, 499 frames': convError(1000, 64, 3, 48, 2),
    'conv k3 s2 32→20, 500 frames': convError(1002, 32, 3, 20, 2),
    'conv k3 s2 6→16 (Cin % 4 ≠ 0)': convError(101, 6, 3, 16, 2),
    'conv k3 s2 8→8, 1 and 2 frames': Math.max(convError(3, 8, 3, 8, 2), convError(5, 8, 3, 8, 2)),
    // From 64 frames and Cout % 16 = 0 the two long products take Strassen, in blocks of 72 frame pairs that the
    // threads split: odd and even frame counts, Cin % 4 ≠ 0, 3 blocks (an odd count) with the last one short.
    'conv k3 s2 6→32, 131 frames (Strassen)': convError(263, 6, 3, 32, 2),
    'conv k3 s2 16→32, 401 frames (Strassen, 3 blocks)': convError(803, 16, 3, 32, 2),
    'conv k3 s2 32→32, 64 frames (Strassen)': convError(129, 32, 3, 32, 2),
    'conv k3 s2 + GELU epilogue (Strassen)': convGeluError(),
    'conv k2 s2 64→40': convError(301, 64, 2, 40, 2),
    'grouped conv 3 × 20 channels, 110 taps, padded': grouped,
    'grouped conv + GELU epilogue': groupedGelu,
    // Through the FFT (packGroupedFilter): 256-point blocks of 156 frames, the last one partial, 24 channels a
    // group (8 past the last 16-channel unit), an odd number of taps; 16 taps (32 points, 17 frames a block); one
    // block shorter than its 129 frames; the GELU epilogue.
    'grouped conv through the FFT, 3 × 24 channels, 101 taps': groupedConvErrors([2, 300, 72, 3, 101, 50], true)[0],
    'grouped conv through the FFT, 2 × 8 channels, 16 taps': groupedConvErrors([1, 100, 16, 2, 16, 8], true)[0],
    'grouped conv through the FFT, 2 × 12 channels (the last 4 of a group alone), 64 taps': groupedConvErrors([1, 150, 24, 2, 64, 32], true)[0],
    'grouped conv through the FFT, 1 × 16 channels, 128 taps, 1 block': groupedConvErrors([1, 60, 16, 1, 128, 64], true)[0],
    'grouped conv through the FFT + GELU epilogue': groupedConvErrors([1, 100, 16, 2, 16, 8], true)[1],
    // 2 rows of 6 blocks in runs of 5 blocks (a run spans the rows; the last is short).
    'grouped conv through the FFT, in runs of blocks': groupedConvErrors([2, 100, 16, 2, 16, 8], true, 5 * 4 * 98 * 16)[0],
    'attention core: 3 heads of 12, 37 frames, masked keys, gated position bias': attentionError(),
    gelu: geluError(),
    'layer norm 257': norm,
    'layer norm + GELU fused': normGelu,
    'GEMM + GELU epilogue': epilogueError(),
    'moments over time (relative)': momentsError(),
  };
}
