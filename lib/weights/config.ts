/**
 * config.json and preprocessor_config.json, parsed once into typed objects. Anything the forward pass does not
 * implement is rejected here, naming the field, rather than silently computing something else.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';

export type ModelType = 'wav2vec2' | 'hubert' | 'wavlm';
export const MODEL_TYPES: readonly ModelType[] = ['wav2vec2', 'hubert', 'wavlm'];

export interface ModelConfig {
  modelType: ModelType;
  hiddenSize: number; // H
  numHiddenLayers: number; // L
  numAttentionHeads: number;
  intermediateSize: number; // FFN width
  convDim: number[]; // channels of each feature-encoder conv
  convKernel: number[];
  convStride: number[];
  convBias: boolean;
  featExtractNorm: 'group' | 'layer';
  doStableLayerNorm: boolean;
  layerNormEps: number;
  numConvPosEmbeddings: number; // positional conv kernel K
  numConvPosEmbeddingGroups: number;
  /** WavLM relative position bias only. */
  numBuckets: number;
  maxBucketDistance: number;
}

export interface PreprocessorConfig {
  samplingRate: number;
  doNormalize: boolean;
  paddingValue: number;
  returnAttentionMask: boolean;
}

type Json = Record<string, unknown>;

function field<T>(j: Json, file: string, name: string, check: (v: unknown) => boolean, what: string, dflt?: T): T {
  const v = j[name];
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    throw new ConfigError(`missing field "${name}" (${what})`, file);
  }
  if (!check(v)) throw new ConfigError(`field "${name}" must be ${what}, got ${JSON.stringify(v)}`, file);
  return v as T;
}
const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const intList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every(posInt);
const isBool = (v: unknown) => typeof v === 'boolean';
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Validates a parsed config.json. `file` is only used in error messages. */
export function parseModelConfig(j: Json, file: string): ModelConfig {
  const modelType = j.model_type;
  if (!MODEL_TYPES.includes(modelType as ModelType)) {
    throw new ConfigError(`unsupported model_type ${JSON.stringify(modelType)} (supported: ${MODEL_TYPES.join(', ')})`, file);
  }
  const unsupported = (name: string, why: string) => new ConfigError(`unsupported feature: "${name}" ${why}`, file);
  if (j.add_adapter === true) throw unsupported('add_adapter', 'is true (adapter layers are not implemented)');
  if (j.conv_pos_batch_norm === true) throw unsupported('conv_pos_batch_norm', 'is true (batch-norm positional conv is not implemented)');
  if (j.feat_proj_layer_norm === false) throw unsupported('feat_proj_layer_norm', 'is false (the projection layer norm is always applied)');
  if (j.position_embeddings_type !== undefined && j.position_embeddings_type !== null) {
    throw unsupported('position_embeddings_type', `is ${JSON.stringify(j.position_embeddings_type)} (only the convolutional positional embedding is implemented)`);
  }
  for (const act of ['hidden_act', 'feat_extract_activation']) {
    if (j[act] !== undefined && j[act] !== 'gelu') throw unsupported(act, `is ${JSON.stringify(j[act])} (only "gelu" is implemented)`);
  }
  const convDim = field<number[]>(j, file, 'conv_dim', intList, 'a list of positive integers');
  const convKernel = field<number[]>(j, file, 'conv_kernel', intList, 'a list of positive integers');
  const convStride = field<number[]>(j, file, 'conv_stride', intList, 'a list of positive integers');
  if (convKernel.length !== convDim.length || convStride.length !== convDim.length) {
    throw new ConfigError(`conv_dim, conv_kernel and conv_stride must have the same length (${convDim.length}, ${convKernel.length}, ${convStride.length})`, file);
  }
  const norm = field<string>(j, file, 'feat_extract_norm', (v) => v === 'group' || v === 'layer', '"group" or "layer"', 'group');
  const cfg: ModelConfig = {
    modelType: modelType as ModelType,
    hiddenSize: field(j, file, 'hidden_size', posInt, 'a positive integer'),
    numHiddenLayers: field(j, file, 'num_hidden_layers', posInt, 'a positive integer'),
    numAttentionHeads: field(j, file, 'num_attention_heads', posInt, 'a positive integer'),
    intermediateSize: field(j, file, 'intermediate_size', posInt, 'a positive integer'),
    convDim,
    convKernel,
    convStride,
    convBias: field(j, file, 'conv_bias', isBool, 'a boolean', false),
    featExtractNorm: norm as 'group' | 'layer',
    doStableLayerNorm: field(j, file, 'do_stable_layer_norm', isBool, 'a boolean', false),
    layerNormEps: field(j, file, 'layer_norm_eps', isNum, 'a number', 1e-5),
    numConvPosEmbeddings: field(j, file, 'num_conv_pos_embeddings', posInt, 'a positive integer', 128),
    numConvPosEmbeddingGroups: field(j, file, 'num_conv_pos_embedding_groups', posInt, 'a positive integer', 16),
    numBuckets: field(j, file, 'num_buckets', posInt, 'a positive integer', 320),
    maxBucketDistance: field(j, file, 'max_bucket_distance', posInt, 'a positive integer', 800),
  };
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ConfigError(`hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numAttentionHeads}`, file);
  }
  if (cfg.hiddenSize % cfg.numConvPosEmbeddingGroups !== 0) {
    throw new ConfigError(`hidden_size ${cfg.hiddenSize} is not divisible by num_conv_pos_embedding_groups ${cfg.numConvPosEmbeddingGroups}`, file);
  }
  if (j.num_feat_extract_layers !== undefined && j.num_feat_extract_layers !== convDim.length) {
    throw new ConfigError(`num_feat_extract_layers ${j.num_feat_extract_layers} does not match ${convDim.length} conv layers`, file);
  }
  return cfg;
}

/** Validates a parsed preprocessor_config.json (Wav2Vec2FeatureExtractor settings). */
export function parsePreprocessorConfig(j: Json, file: string): PreprocessorConfig {
  if (j.feature_size !== undefined && j.feature_size !== 1) throw new ConfigError(`field "feature_size" must be 1 (raw waveform), got ${JSON.stringify(j.feature_size)}`, file);
  if (j.padding_side !== undefined && j.padding_side !== 'right') throw new ConfigError(`unsupported feature: "padding_side" is ${JSON.stringify(j.padding_side)} (only "right")`, file);
  return {
    samplingRate: field(j, file, 'sampling_rate', posInt, 'a positive integer', 16000),
    doNormalize: field(j, file, 'do_normalize', isBool, 'a boolean', true),
    paddingValue: field(j, file, 'padding_value', isNum, 'a number', 0),
    returnAttentionMask: field(j, file, 'return_attention_mask', isBool, 'a boolean', false),
  };
}

/** The HF default feature extractor, for checkpoints that ship no preprocessor_config.json. */
export const DEFAULT_PREPROCESSOR: PreprocessorConfig = { samplingRate: 16000, doNormalize: true, paddingValue: 0, returnAttentionMask: false };

export function readJsonFile(file: string, err: (reason: string, file: string) => Error): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw err(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  try {
    const j = JSON.parse(text);
    if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error('not an object');
    return j;
  } catch {
    throw err('not a valid JSON object', file);
  }
}

export function readModelConfig(dir: string): ModelConfig {
  const file = path.join(dir, 'config.json');
  return parseModelConfig(readJsonFile(file, (r, f) => new ConfigError(r, f)), file);
}

export function readPreprocessorConfig(dir: string): PreprocessorConfig {
  const file = path.join(dir, 'preprocessor_config.json');
  if (!fs.existsSync(file)) return DEFAULT_PREPROCESSOR;
  return parsePreprocessorConfig(readJsonFile(file, (r, f) => new ConfigError(r, f)), file);
}

/** A ModelConfig as HF config.json fields (what parseModelConfig reads back to the same config). */
export function modelConfigToJson(c: ModelConfig): Json {
  const arch = { wav2vec2: 'Wav2Vec2Model', hubert: 'HubertModel', wavlm: 'WavLMModel' }[c.modelType];
  return {
    architectures: [arch],
    model_type: c.modelType,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    intermediate_size: c.intermediateSize,
    conv_dim: c.convDim,
    conv_kernel: c.convKernel,
    conv_stride: c.convStride,
    conv_bias: c.convBias,
    num_feat_extract_layers: c.convDim.length,
    feat_extract_norm: c.featExtractNorm,
    do_stable_layer_norm: c.doStableLayerNorm,
    layer_norm_eps: c.layerNormEps,
    num_conv_pos_embeddings: c.numConvPosEmbeddings,
    num_conv_pos_embedding_groups: c.numConvPosEmbeddingGroups,
    hidden_act: 'gelu',
    feat_extract_activation: 'gelu',
    ...(c.modelType === 'wavlm' ? { num_buckets: c.numBuckets, max_bucket_distance: c.maxBucketDistance } : {}),
  };
}

/** A PreprocessorConfig as preprocessor_config.json fields. */
export function preprocessorConfigToJson(p: PreprocessorConfig): Json {
  return {
    feature_extractor_type: 'Wav2Vec2FeatureExtractor',
    feature_size: 1,
    padding_side: 'right',
    sampling_rate: p.samplingRate,
    do_normalize: p.doNormalize,
    padding_value: p.paddingValue,
    return_attention_mask: p.returnAttentionMask,
  };
}
