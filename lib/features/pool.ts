/**
 * Pooling over time: one vector per utterance from frame-level features, counting only valid frames (padding
 * frames of a batch, or frames past the end of the audio, do not dilute the statistics). The mean, and with
 * `--pool mean,std` the per-dimension standard deviation: the population one (divided by the frame count, as
 * NumPy's np.std), taken around the mean in a second pass so that a large mean does not cancel it away.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Mean of the first `validFrames` rows of `hidden` [T, D] → [D], accumulated in float64. */
export function meanPool(hidden: Float32Array, T: number, D: number, validFrames: number = T): Float32Array {
  return Float32Array.from(mean64(hidden, T, D, validFrames, 'meanPool'));
}

/** Standard deviation (population) of the first `validFrames` rows of `hidden` [T, D] → [D], in float64. */
export function stdPool(hidden: Float32Array, T: number, D: number, validFrames: number = T): Float32Array {
  const mean = mean64(hidden, T, D, validFrames, 'stdPool');
  const ss = new Float64Array(D);
  for (let t = 0; t < validFrames; t++) {
    const row = t * D;
    for (let d = 0; d < D; d++) ss[d] += (hidden[row + d] - mean[d]) ** 2;
  }
  return Float32Array.from(ss, (v) => Math.sqrt(v / validFrames));
}

function mean64(hidden: Float32Array, T: number, D: number, validFrames: number, what: string): Float64Array {
  if (hidden.length !== T * D) throw new RangeError(`${what}: ${hidden.length} values is not T·D = ${T}·${D}`);
  if (!Number.isInteger(validFrames) || validFrames < 1 || validFrames > T) {
    throw new RangeError(`${what}: validFrames must be an integer in 1…${T}, got ${validFrames}`);
  }
  const mean = new Float64Array(D);
  for (let t = 0; t < validFrames; t++) {
    const row = t * D;
    for (let d = 0; d < D; d++) mean[d] += hidden[row + d];
  }
  for (let d = 0; d < D; d++) mean[d] /= validFrames;
  return mean;
}

/**
 * Masked mean over time: h [B, T, D], frameMask [B, T] (1 = valid frame, 0 = padding; any numeric dtype) or
 * undefined for all frames → [B, D]. A row whose mask is all zero has no mean and comes out NaN (0/0).
 */
export function meanPoolTensor(h: tf.Tensor3D, frameMask?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    if (!frameMask) return tf.mean(h, 1) as tf.Tensor2D; // [B, D]
    const [B, T] = h.shape;
    if (frameMask.shape[0] !== B || frameMask.shape[1] !== T) {
      throw new RangeError(`meanPoolTensor: mask shape [${frameMask.shape}] does not match hidden states [${h.shape}]`);
    }
    const m = tf.cast(frameMask, 'float32'); // [B, T]
    const sum = tf.sum(tf.mul(h, tf.expandDims(m, 2)), 1); // [B, D]
    const count = tf.sum(m, 1, true); // [B, 1]
    return tf.div(sum, count) as tf.Tensor2D; // [B, D]
  });
}

/**
 * Masked standard deviation over time (population, around `mean` = meanPoolTensor(h, frameMask)): h [B, T, D],
 * frameMask [B, T] or undefined → [B, D].
 */
export function stdPoolTensor(h: tf.Tensor3D, mean: tf.Tensor2D, frameMask?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const dev = tf.square(tf.sub(h, tf.expandDims(mean, 1))); // [B, T, D]
    if (!frameMask) return tf.sqrt(tf.mean(dev, 1)) as tf.Tensor2D;
    const m = tf.cast(frameMask, 'float32'); // [B, T]
    return tf.sqrt(tf.div(tf.sum(tf.mul(dev, tf.expandDims(m, 2)), 1), tf.sum(m, 1, true))) as tf.Tensor2D; // [B, D]
  });
}

/**
 * Why pooled vectors cannot be used, or null when every value is finite. A NaN or Inf (weights or a config the
 * checks let through, an overflow on odd audio) makes that file's error, never a score or a stored row.
 */
export function firstNonFinite(vectors: ArrayLike<number>[], layers: number[]): string | null {
  for (let k = 0; k < vectors.length; k++) {
    const v = vectors[k];
    for (let j = 0; j < v.length; j++) {
      if (!Number.isFinite(v[j])) return `the model produced a non-finite feature (${v[j]} at layer ${layers[k]}, dimension ${j})`;
    }
  }
  return null;
}
