/**
 * Builds weights/demo: the model `wavprobe demo` runs when no real checkpoint is given. Pretrained weights cannot
 * be bundled, so this is a small wav2vec 2.0-architecture network (the real 7-layer conv stack at 128 channels,
 * 6 post-norm transformer layers of 192) with seeded random weights, stored in float16 like a converted model.
 *
 *   npx tsx tools/make-demo-model.ts [out=weights/demo]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_PREPROCESSOR, ModelConfig, modelConfigToJson, preprocessorConfigToJson } from '../lib/weights/config';
import { weightsFingerprint } from '../lib/weights/fingerprint';
import { writeStore } from '../lib/weights/store';
import { randomWeights } from '../lib/models/random';

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
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-demo-model-'));
  try {
    const configJson = Buffer.from(JSON.stringify(modelConfigToJson(DEMO_CONFIG), null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, 'config.json'), configJson);
    fs.writeFileSync(path.join(tmp, 'preprocessor_config.json'), JSON.stringify(preprocessorConfigToJson(DEFAULT_PREPROCESSOR), null, 2) + '\n');
    const weights = randomWeights(DEMO_CONFIG, DEMO_SEED);
    const info = writeStore(
      out,
      {
        dir: tmp,
        weightFile: path.join(tmp, `random-seed-${DEMO_SEED}`),
        config: DEMO_CONFIG,
        preprocessor: DEFAULT_PREPROCESSOR,
        weights,
        fingerprint: weightsFingerprint(configJson, weights),
      },
      { dtype: 'float16', source: `wavprobe demo model (wav2vec 2.0 architecture, seeded random weights, seed ${DEMO_SEED})` },
    );
    console.log(`${out}: ${(info.parameters / 1e6).toFixed(2)}M parameters, float16`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
