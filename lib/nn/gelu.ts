/** GELU in the exact erf form HF uses for "gelu" (not the tanh approximation). */
import * as tf from '@tensorflow/tfjs-core';
import { consume } from './consume';

/** 0.5·x·(1 + erf(x/√2)). `tf.erf` is a native kernel on both cpu and wasm (spec/nn/gelu.spec.ts checks it). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const erfPlus1 = consume(consume(tf.mul(x, Math.SQRT1_2), tf.erf), (e) => tf.add(e, 1));
    return consume(erfPlus1, (e) => consume(tf.mul(x, 0.5), (half) => tf.mul(half, e))) as T;
  });
}
