/**
 * Dense layers and 2-D products on weights stored as [in, out] (see lib/weights/keymap.ts). On the wasm backend
 * they run on wavprobe's GEMM (lib/kernels), elsewhere on tfjs's matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { halvesTensor, kernels, runKernel } from '../kernels';
import { consume } from './consume';
import { gelu } from './gelu';

/** What follows the product in the same pass (wavprobe's kernels) or as the next op (tfjs). */
export interface Epilogue {
  gelu?: boolean;
}

/**
 * How packWeight() laid a weight out for the kernels' GEMM: 8-column panels, or the 7 blocks of one level of
 * Strassen (1/8 fewer multiply-adds, 7/4 of the memory). Only matMul on the kernels can read either.
 */
const layouts = new WeakMap<tf.Tensor, 'panels' | 'strassen'>();

/** Strassen pays where the halves of a product are still big enough for the micro-kernel (and fit its layout). */
const strassenFits = ([K, N]: readonly number[]) => K % 2 === 0 && N % 16 === 0 && K >= 256 && N >= 256;

/**
 * A dense weight [in, out] as the kernels' GEMM reads it, so no product has to repack it: done once at load for
 * resident weights. `strassen`: as Strassen's blocks where they fit. The input is disposed. Where the kernels
 * are not in use, or out % 8 ≠ 0, the weight is returned as it is.
 */
export function packWeight(w: tf.Tensor, { strassen = false } = {}): tf.Tensor {
  if (!kernels() || w.rank !== 2 || w.shape[1]! % 8) return w;
  const p = packAs(w, w.shape, strassen);
  w.dispose();
  return p;
}

/** b (float32 [K, N], or halvesTensor()'s int32 [K, N / 2]) packed by the kernels in the layout that fits `shape`. */
function packAs(b: tf.Tensor, shape: readonly number[], strassen: boolean): tf.Tensor {
  const layout = strassen && strassenFits(shape) ? 'strassen' : 'panels';
  const p = runKernel(layout === 'strassen' ? 'WavprobePackStrassen' : 'WavprobePack', { b });
  layouts.set(p, layout);
  return p;
}

/**
 * packWeight() for a weight [in, out] stored as IEEE halves: widened exactly while it is packed, in one pass, with
 * no float32 copy before it. Undefined where packWeight() would not pack (no kernels, or out % 8 ≠ 0).
 */
export function packHalfWeight(half: Uint16Array, shape: readonly number[], { strassen = false } = {}): tf.Tensor | undefined {
  const [K, N] = shape;
  if (!kernels() || shape.length !== 2 || N % 8 || half.length !== K * N) return undefined;
  return tf.tidy(() => packAs(tf.reshape(halvesTensor(half), [K, N / 2]), shape, strassen));
}

/** [in, out] of a dense weight, whatever its layout. */
export function denseShape(w: tf.Tensor): [number, number] {
  return layouts.get(w) === 'strassen' ? [2 * w.shape[1]!, 2 * w.shape[2]!] : [w.shape[0]!, w.shape[1]!];
}

/** a [M, K] · b [K, N] (+ bias [N]) (→ GELU) → [M, N]; b may be a packWeight() weight. */
export function matMul(a: tf.Tensor, b: tf.Tensor, bias?: tf.Tensor, then: Epilogue = {}): tf.Tensor2D {
  const [M, K] = a.shape;
  const layout = layouts.get(b);
  if (layout && !kernels())
    throw new UsageError("this weight was laid out for wavprobe's wasm kernels at load: load the model again on this backend");
  if (!kernels()) {
    const y = tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias }) as tf.Tensor2D;
    return then.gelu ? consume(y, gelu) : y;
  }
  const inputs: Record<string, tf.Tensor> = bias ? { a, b, bias } : { a, b };
  return tf.tidy(() => {
    const y = runKernel<tf.Tensor3D>('WavprobeGemm', inputs, {
      batch: 1,
      rows: M,
      rowStride: K,
      batchStride: 0,
      gelu: !!then.gelu,
      packed: layout === 'panels',
      strassen: layout === 'strassen',
    }); // [1, M, N]
    return tf.reshape(y, [M, denseShape(b)[1]]);
  });
}

/** y = x·W + b over the last axis (→ GELU): x [..., in], W [in, out], b [out] → [..., out]. */
export function linear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias?: tf.Tensor, then: Epilogue = {}): T {
  return tf.tidy(() => {
    const [inDim, outDim] = denseShape(weight);
    const y = matMul(tf.reshape(x, [-1, inDim]), weight, bias, then); // [N, out]
    return tf.reshape(y, [...x.shape.slice(0, -1), outDim]) as T;
  });
}
