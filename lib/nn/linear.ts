/** Dense layer on weights stored as [in, out] (see lib/weights/keymap.ts), so it is a plain matMul. */
import * as tf from '@tensorflow/tfjs-core';

/** y = x·W + b over the last axis: x [..., in], W [in, out], b [out] → [..., out]. */
export function linear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias?: tf.Tensor): T {
  return tf.tidy(() => {
    const [inDim, outDim] = weight.shape;
    const rows = tf.reshape(x, [-1, inDim]) as tf.Tensor2D; // [N, in]: a 2-D matMul takes the XNNPACK path on wasm
    const y = tf.fused.matMul({ a: rows, b: weight as tf.Tensor2D, bias }); // [N, out]
    return tf.reshape(y, [...x.shape.slice(0, -1), outDim]) as T;
  });
}
