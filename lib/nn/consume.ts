/** Freeing intermediates early inside a tidy, where activations are large (the conv encoder's: 65 MB each at 10 s). */
import type * as tf from '@tensorflow/tfjs-core';

/** f(t), then frees t: a chain of element-wise steps keeps two activations alive instead of all of them. */
export function consume<T extends tf.Tensor, U extends tf.Tensor>(t: T, f: (t: T) => U): U {
  const y = f(t);
  t.dispose();
  return y;
}
