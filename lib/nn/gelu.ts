/** GELU in the exact erf form HF uses for "gelu" (not the tanh approximation). */
import * as tf from '@tensorflow/tfjs-core';
import { kernels, runKernel } from '../kernels';
import { consume } from './consume';

/**
 * 0.5·x·(1 + erf(x/√2)): one SIMD pass on wavprobe's wasm kernels (lib/kernels/kernels.c), else tfjs ops around
 * its native erf kernel. spec/nn/gelu.spec.ts holds both to float64.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (kernels()) return runKernel<T>('WavprobeGelu', { x });
  return tf.tidy(() => {
    const erfPlus1 = consume(consume(tf.mul(x, Math.SQRT1_2), tf.erf), (e) => tf.add(e, 1));
    return consume(erfPlus1, (e) => consume(tf.mul(x, 0.5), (half) => tf.mul(half, e))) as T;
  });
}
