/** The architectures the benchmarks run, at their real sizes (on seeded random weights: lib/models/random.ts). */
import { ModelConfig } from '../weights/config';

const CONV_STACK = { convDim: Array(7).fill(512), convKernel: [10, 3, 3, 3, 3, 2, 2], convStride: [5, 2, 2, 2, 2, 2, 2] };
const COMMON = { numConvPosEmbeddings: 128, numConvPosEmbeddingGroups: 16, layerNormEps: 1e-5, numBuckets: 320, maxBucketDistance: 800 };

const BASE: ModelConfig = {
  modelType: 'wav2vec2',
  hiddenSize: 768,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  intermediateSize: 3072,
  ...CONV_STACK,
  convBias: false,
  featExtractNorm: 'group',
  doStableLayerNorm: false,
  ...COMMON,
};
const XLSR: ModelConfig = {
  ...BASE,
  hiddenSize: 1024,
  numHiddenLayers: 24,
  numAttentionHeads: 16,
  intermediateSize: 4096,
  convBias: true,
  featExtractNorm: 'layer',
  doStableLayerNorm: true,
};

export const PRESETS = {
  'wav2vec2-base': BASE,
  'wavlm-base': { ...BASE, modelType: 'wavlm' },
  'xlsr-300m': XLSR,
  'xlsr-1b': { ...XLSR, hiddenSize: 1280, numHiddenLayers: 48, intermediateSize: 5120 },
} satisfies Record<string, ModelConfig>;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
