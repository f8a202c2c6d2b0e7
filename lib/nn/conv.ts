/**
 * 1-D convolutions on time-major tensors [B, T, C] with filters in tfjs layout [K, Cin/groups, Cout].
 * tfjs has no grouped convolution: off wavprobe's kernels a grouped conv is one plain conv per group.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
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

/** packGroupedFilter()'s spectra, with their filter's taps: only groupedConv1d on the kernels can read them. */
const spectra = new WeakMap<tf.Tensor, { taps: number }>();

/**
 * From this many taps a square grouped conv runs through the FFT on wavprobe's kernels (kernels.c fft_conv_*):
 * ~taps/4 fewer multiply-adds, which outweighs the transforms from here on.
 */
const FFT_MIN_TAPS = 16;

/**
 * A square grouped conv's filter [K, C/G, C] (Cin = Cout = C: the positional conv) as groupedConv1d reads it
 * fastest: on wavprobe's kernels, from FFT_MIN_TAPS taps and C/G a multiple of 4, as the spectra of its taps (made
 * once at load, ~2× the filter's size; the input is disposed); otherwise the filter as it is.
 */
export function packGroupedFilter(filter: tf.Tensor): tf.Tensor {
  const [taps, Cg, Cout] = filter.shape;
  if (!kernels() || filter.rank !== 3 || taps < FFT_MIN_TAPS || Cg % 4 || Cout % Cg) return filter;
  const s = runKernel('WavprobeConvSpectrum', { filter });
  filter.dispose();
  spectra.set(s, { taps });
  return s;
}

/**
 * Grouped conv, stride 1, `pad` zeros on both ends of time: x [B, T, Cin], filter [K, Cin/G, Cout] (group g's
 * outputs are its columns [g·Cout/G, (g+1)·Cout/G) and read input channels [g·Cin/G, (g+1)·Cin/G)), or
 * packGroupedFilter()'s spectra of one → [B, frames, Cout], frames ≤ T + 2·pad − K + 1 (default: all; fewer drops
 * the last ones) (+ bias) (→ GELU). On wavprobe's kernels one call runs every group in place (through the FFT for
 * spectra); tfjs has no grouped conv, so elsewhere it is one conv per group.
 */
export function groupedConv1d(
  x: tf.Tensor3D,
  filter: tf.Tensor,
  groups: number,
  pad: number,
  bias?: tf.Tensor,
  then: Epilogue & { frames?: number } = {},
): tf.Tensor3D {
  const spectrum = spectra.get(filter);
  if (spectrum) return fftConv1d(x, filter, spectrum.taps, groups, pad, bias, then);
  return tf.tidy(() => {
    const [K, , Cout] = filter.shape;
    const padded = tf.pad(x, [
      [0, 0],
      [pad, pad],
      [0, 0],
    ]); // [B, T + 2·pad, Cin]
    const frames = then.frames ?? padded.shape[1] - K + 1;
    if (kernels()) {
      const weight = tf.reshape(filter, [-1, Cout]); // [K·Cin/G, Cout], a view
      const inputs: Record<string, tf.Tensor> = bias ? { x: padded, filter: weight, bias } : { x: padded, filter: weight };
      return runKernel<tf.Tensor3D>('WavprobeGroupedConv', inputs, { groups, taps: K, rows: frames, gelu: !!then.gelu }); // [B, frames, Cout]
    }
    const parts = tf.split(padded, groups, 2) as tf.Tensor3D[]; // G × [B, T + 2·pad, Cin/G]
    const filters = tf.split(filter as tf.Tensor3D, groups, 2); // G × [K, Cin/G, Cout/G]
    const outs = parts.map((p, g) => tf.conv1d(p, filters[g] as tf.Tensor3D, 1, 'valid')); // G × [B, T', Cout/G]
    let y: tf.Tensor3D = tf.slice(tf.concat(outs, 2), [0, 0, 0], [-1, frames, -1]); // [B, frames, Cout]
    if (bias) y = tf.add(y, bias);
    return then.gelu ? gelu(y) : y;
  });
}

/** groupedConv1d on packGroupedFilter()'s spectra [N/2 + 1, 2, C/G, C] of a filter with `taps` taps. */
function fftConv1d(
  x: tf.Tensor3D,
  spectrum: tf.Tensor,
  taps: number,
  groups: number,
  pad: number,
  bias?: tf.Tensor,
  then: Epilogue & { frames?: number } = {},
): tf.Tensor3D {
  if (!kernels()) throw new UsageError("this filter was laid out for wavprobe's wasm kernels at load: load the model again on this backend");
  const [, , Cg, C] = spectrum.shape;
  if (groups * Cg !== C) throw new UsageError(`grouped conv: a filter of ${C / Cg} groups run as ${groups}`);
  const frames = then.frames ?? x.shape[1] + 2 * pad - taps + 1;
  const inputs: Record<string, tf.Tensor> = bias ? { x, spectrum, bias } : { x, spectrum };
  return runKernel<tf.Tensor3D>('WavprobeFftConv', inputs, { taps, pad, frames, gelu: !!then.gelu }); // [B, frames, C]
}
