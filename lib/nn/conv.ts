/**
 * 1-D convolutions on time-major tensors [B, T, C] with filters in tfjs layout [K, Cin/groups, Cout].
 * tfjs has no grouped convolution: a grouped conv is one plain conv per group, on filters split once at load.
 */
import * as tf from '@tensorflow/tfjs-core';
import { kernels, runKernel } from '../kernels';
import { consume } from './consume';
import { gelu } from './gelu';
import { Epilogue } from './linear';

/**
 * Unpadded conv: x [B, T, Cin], filter [K, Cin, Cout] → [B, floor((T − K)/stride) + 1, Cout]. On wavprobe's wasm
 * kernels it is one GEMM per row: output frame t is x[t·stride .. t·stride + K) (K·Cin contiguous values) · the
 * filter as [K·Cin, Cout], read in place with a row stride of stride·Cin; kernel 3, stride 2 shares products
 * between neighbouring frames (lib/kernels conv).
 */
export function conv1d(x: tf.Tensor3D, filter: tf.Tensor, stride: number, bias?: tf.Tensor, then: Epilogue = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const Cin = x.shape[2];
    const [K, , Cout] = filter.shape;
    if (kernels()) {
      const weight = tf.reshape(filter, [K * Cin, Cout]); // [K·Cin, Cout], a view
      const inputs: Record<string, tf.Tensor> = bias ? { x, filter: weight, bias } : { x, filter: weight };
      return runKernel<tf.Tensor3D>('WavprobeConv', inputs, { kernel: K, stride, gelu: !!then.gelu }); // [B, T', Cout]
    }
    let y = tf.conv1d(x, filter as tf.Tensor3D, stride, 'valid'); // [B, T', Cout]
    if (bias) y = consume(y, (t) => tf.add<tf.Tensor3D>(t, bias));
    return then.gelu ? consume(y, gelu) : y;
  });
}

/** A grouped filter [K, Cin/G, Cout] → G filters [K, Cin/G, Cout/G] (output channels are in group order). */
export function splitGroupFilter(filter: tf.Tensor, groups: number): tf.Tensor3D[] {
  return tf.split(filter as tf.Tensor3D, groups, 2);
}

/**
 * Grouped conv, stride 1, `pad` zeros on both ends of time: x [B, T, Cin], filters from splitGroupFilter,
 * → [B, T + 2·pad − K + 1, Cout]. Group g reads input channels [g·Cin/G, (g+1)·Cin/G).
 */
export function groupedConv1d(x: tf.Tensor3D, filters: tf.Tensor3D[], pad: number, bias?: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const padded = tf.pad(x, [[0, 0], [pad, pad], [0, 0]]); // [B, T + 2·pad, Cin]
    const parts = tf.split(padded, filters.length, 2) as tf.Tensor3D[]; // G × [B, T + 2·pad, Cin/G]
    const outs = parts.map((p, g) => conv1d(p, filters[g], 1)); // G × [B, T', Cout/G]
    const y = tf.concat(outs, 2); // [B, T', Cout]
    return bias ? tf.add<tf.Tensor3D>(y, bias) : y;
  });
}
