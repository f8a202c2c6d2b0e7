/**
 * Builds weights/demo: the model `wavprobe demo` runs when no real checkpoint is given. Pretrained weights cannot
 * be bundled, so this is a small wav2vec 2.0-architecture network (the real 7-layer conv stack at 128 channels,
 * 6 post-norm transformer layers of 192) with seeded random weights, stored in float16 like a converted model.
 *
 *   npx tsx tools/make-demo-model.ts [out=weights/demo]
 */
import * as path from 'path';
import { ModelConfig } from '../lib/weights/config';
import { writeRandomStore } from '../lib/models/random';

export const DEMO_CONFIG: ModelConfig = {
  modelType: 'wav2vec2',
  hiddenSize: 192,
  numHiddenLayers: 6,
  numAttentionHeads: 4,
  intermediateSize: 768,
  convDim: Array(7).fill(128),
  convKernel: [10, 3, 3, 3, 3, 2, 2],
  convStride: [5, 2, 2, 2, 2, 2, 2],
  convBias: false,
  featExtractNorm: 'group',
  doStableLayerNorm: false,
  layerNormEps: 1e-5,
  numConvPosEmbeddings: 64,
  numConvPosEmbeddingGroups: 16,
  numBuckets: 320,
  maxBucketDistance: 800,
};
export const DEMO_SEED = 1;

if (require.main === module) {
  const out = process.argv[2] ?? path.join(__dirname, '..', 'weights', 'demo');
  const info = writeRandomStore(out, DEMO_CONFIG, {
    seed: DEMO_SEED,
    dtype: 'float16',
    source: `wavprobe demo model (wav2vec 2.0 architecture, seeded random weights, seed ${DEMO_SEED})`,
  });
  console.log(`${out}: ${(info.parameters / 1e6).toFixed(2)}M parameters, float16`);
}
