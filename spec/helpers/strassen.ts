/** A small model whose dense layers take Strassen's layout (spec/models/strassen.spec.ts, spec/browser/forward.spec.ts). */
import { PRESETS } from '../../lib/bench/presets';
import { ModelConfig } from '../../lib/weights/config';

/** q/k/v/out [256, 256] and the FFN's [256, 512], [512, 256] take Strassen's layout; the projection [64, 256] cannot. */
export const STRASSEN_CONFIG: ModelConfig = {
  ...PRESETS['xlsr-300m'],
  hiddenSize: 256,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  intermediateSize: 512,
  convDim: Array(7).fill(64),
};

/** max |a − b| / max |b| over all the arrays. */
export function relDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let [diff, scale] = [0, 0];
  b.forEach((h, i) => {
    for (let j = 0; j < h.length; j++) [diff, scale] = [Math.max(diff, Math.abs(a[i][j] - h[j])), Math.max(scale, Math.abs(h[j]))];
  });
  return diff / scale;
}
