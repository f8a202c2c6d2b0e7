/**
 * The kernel checks, shared by the in-process spec (1 thread) and its 2-thread child: each kernel against a
 * float64 computation, on shapes that hit the awkward paths (ragged last panel, fewer than 4 rows, K beyond one
 * K block, overlapping conv rows, a GELU length that is no multiple of 4) and are big enough to be split over
 * the worker threads when there are any.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../../lib/random';
import { conv1d } from '../../lib/nn/conv';
import { gelu } from '../../lib/nn/gelu';
import { matMul } from '../../lib/nn/linear';
import { REF } from '../helpers/nn-reference';

const seeded = (n: number, seed: number) => {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => 2 * rand() - 1);
};

/** max |got − exact| / Σ_k |a·b| over the outputs: the GEMM's error relative to the scale of its sums. */
function gemmError(M: number, K: number, N: number, withBias: boolean): number {
  const [a, b, bias] = [seeded(M * K, 1), seeded(K * N, 2), seeded(N, 3)];
  const got = tf.tidy(() => matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, N]), withBias ? tf.tensor1d(bias) : undefined).dataSync());
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

/** conv1d (stride 2, overlapping windows, two batch rows) against the direct float64 sum. */
function convError(): number {
  const [B, T, Cin, K, Cout, stride] = [2, 1000, 64, 3, 48, 2];
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

export function kernelErrors(): Record<string, number> {
  return {
    'dense 37×1600·1600×203 + bias': gemmError(37, 1600, 203, true),
    'dense 3×5·5×8': gemmError(3, 5, 8, false),
    'dense 1×64·64×9 + bias': gemmError(1, 64, 9, true),
    'conv k3 s2 64→48, 2 rows': convError(),
    gelu: geluError(),
  };
}
