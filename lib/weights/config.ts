/**
 * config.json and preprocessor_config.json, parsed once into typed objects. Anything the forward pass does not
 * implement is rejected here, naming the field, rather than silently computing something else.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, WavprobeError } from '../errors';
import { showJson } from './json';
import { expectedWeights } from './keymap';
import { MAX_TENSOR_ELEMENTS, sizeOf } from './tensor';

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

/**
 * Size caps, far above every published checkpoint (the largest in brackets) and low enough that no config can make
 * wavprobe build a huge weight list or ask for memory no machine has: num_hidden_layers ≤ 256 [48], hidden_size
 * ≤ 8192 [1920], num_attention_heads ≤ 1024 [16], intermediate_size ≤ 32768 [7680], 1 to 16 conv layers [7] of
 * conv_dim ≤ 8192 [512], conv_kernel and conv_stride ≤ 1024 [10, 5], num_conv_pos_embeddings and
 * num_conv_pos_embedding_groups ≤ 1024 [128, 16], num_buckets 4 to 4096 [320], max_bucket_distance ≤ 2^20 [800];
 * and no weight over MAX_TENSOR_ELEMENTS values.
 */
const MAX_CONV_LAYERS = 16;

function field<T>(j: Json, file: string, name: string, check: (v: unknown) => boolean, what: string, dflt?: T): T {
  const v = j[name];
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    throw new ConfigError(`missing field "${name}" (${what})`, file);
  }
  if (!check(v)) throw new ConfigError(`field "${name}" must be ${what}, got ${showJson(v)}`, file);
  return v as T;
}
const isInt = (min: number, max: number) => (v: unknown) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isBool = (v: unknown) => typeof v === 'boolean';
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Validates a parsed config.json. `file` is only used in error messages. */
export function parseModelConfig(j: Json, file: string): ModelConfig {
  const modelType = j.model_type;
  if (!MODEL_TYPES.includes(modelType as ModelType)) {
    throw new ConfigError(`unsupported model_type ${showJson(modelType)} (supported: ${MODEL_TYPES.join(', ')})`, file);
  }
  const unsupported = (name: string, why: string) => new ConfigError(`unsupported feature: "${name}" ${why}`, file);
  if (j.add_adapter === true) throw unsupported('add_adapter', 'is true (adapter layers are not implemented)');
  if (j.conv_pos_batch_norm === true) throw unsupported('conv_pos_batch_norm', 'is true (batch-norm positional conv is not implemented)');
  if (j.feat_proj_layer_norm === false) throw unsupported('feat_proj_layer_norm', 'is false (the projection layer norm is always applied)');
  if (j.position_embeddings_type !== undefined && j.position_embeddings_type !== null) {
    throw unsupported(
      'position_embeddings_type',
      `is ${showJson(j.position_embeddings_type)} (only the convolutional positional embedding is implemented)`,
    );
  }
  for (const act of ['hidden_act', 'feat_extract_activation']) {
    if (j[act] !== undefined && j[act] !== 'gelu') throw unsupported(act, `is ${showJson(j[act])} (only "gelu" is implemented)`);
  }
  const int = (name: string, max: number, dflt?: number) => field<number>(j, file, name, isInt(1, max), `a positive integer ≤ ${max}`, dflt);
  const list = (name: string, max: number) =>
    field<number[]>(
      j,
      file,
      name,
      (v) => Array.isArray(v) && v.length >= 1 && v.length <= MAX_CONV_LAYERS && v.every(isInt(1, max)),
      `a list of 1 to ${MAX_CONV_LAYERS} positive integers ≤ ${max}`,
    );
  const convDim = list('conv_dim', 8192);
  const convKernel = list('conv_kernel', 1024);
  const convStride = list('conv_stride', 1024);
  if (convKernel.length !== convDim.length || convStride.length !== convDim.length) {
    throw new ConfigError(
      `conv_dim, conv_kernel and conv_stride must have the same length (${convDim.length}, ${convKernel.length}, ${convStride.length})`,
      file,
    );
  }
  const norm = field<string>(j, file, 'feat_extract_norm', (v) => v === 'group' || v === 'layer', '"group" or "layer"', 'group');
  const cfg: ModelConfig = {
    modelType: modelType as ModelType,
    hiddenSize: int('hidden_size', 8192),
    numHiddenLayers: int('num_hidden_layers', 256),
    numAttentionHeads: int('num_attention_heads', 1024),
    intermediateSize: int('intermediate_size', 32768),
    convDim,
    convKernel,
    convStride,
    convBias: field(j, file, 'conv_bias', isBool, 'a boolean', false),
    featExtractNorm: norm as 'group' | 'layer',
    doStableLayerNorm: field(j, file, 'do_stable_layer_norm', isBool, 'a boolean', false),
    // eps ≤ 0 makes a constant row's norm 0/0 = NaN; ≥ 1 swamps the variance of every real activation.
    layerNormEps: field(j, file, 'layer_norm_eps', (v) => isNum(v) && (v as number) > 0 && (v as number) < 1, 'a number > 0 and < 1', 1e-5),
    numConvPosEmbeddings: int('num_conv_pos_embeddings', 1024, 128),
    numConvPosEmbeddingGroups: int('num_conv_pos_embedding_groups', 1024, 16),
    numBuckets: field(j, file, 'num_buckets', isInt(4, 4096), 'a positive integer from 4 to 4096', 320),
    maxBucketDistance: int('max_bucket_distance', 2 ** 20, 800),
  };
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ConfigError(`hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numAttentionHeads}`, file);
  }
  if (cfg.hiddenSize % cfg.numConvPosEmbeddingGroups !== 0) {
    throw new ConfigError(`hidden_size ${cfg.hiddenSize} is not divisible by num_conv_pos_embedding_groups ${cfg.numConvPosEmbeddingGroups}`, file);
  }
  // WavLM's log-spaced buckets start at num_buckets / 4 and take log(max_bucket_distance / that): it must be larger.
  const exact = Math.floor(cfg.numBuckets / 4);
  if (cfg.maxBucketDistance <= exact)
    throw new ConfigError(`max_bucket_distance ${cfg.maxBucketDistance} must be more than num_buckets / 4 (${exact})`, file);
  if (j.num_feat_extract_layers !== undefined && j.num_feat_extract_layers !== convDim.length) {
    throw new ConfigError(`num_feat_extract_layers ${showJson(j.num_feat_extract_layers)} does not match ${convDim.length} conv layers`, file);
  }
  const big = expectedWeights(cfg).find((e) => sizeOf(e.hfShape) > MAX_TENSOR_ELEMENTS);
  if (big) {
    throw new ConfigError(
      `"${big.key}" would hold ${sizeOf(big.hfShape)} values ${JSON.stringify(big.hfShape)}: more than the ${MAX_TENSOR_ELEMENTS} a weight may have`,
      file,
    );
  }
  return cfg;
}

/** Validates a parsed preprocessor_config.json (Wav2Vec2FeatureExtractor settings). */
export function parsePreprocessorConfig(j: Json, file: string): PreprocessorConfig {
  if (j.feature_size !== undefined && j.feature_size !== 1)
    throw new ConfigError(`field "feature_size" must be 1 (raw waveform), got ${showJson(j.feature_size)}`, file);
  if (j.padding_side !== undefined && j.padding_side !== 'right')
    throw new ConfigError(`unsupported feature: "padding_side" is ${showJson(j.padding_side)} (only "right")`, file);
  // Audio is resampled to sampling_rate before the model sees it: any other rate would silently feed a 16 kHz model wrong audio.
  const samplingRate = field<number>(j, file, 'sampling_rate', isInt(1, Infinity), 'a positive integer', 16000);
  if (samplingRate !== 16000)
    throw new ConfigError(`sampling_rate ${samplingRate} is not supported: every supported model takes 16000 Hz audio`, file);
  return {
    samplingRate,
    doNormalize: field(j, file, 'do_normalize', isBool, 'a boolean', true),
    paddingValue: field(j, file, 'padding_value', isNum, 'a finite number', 0),
    returnAttentionMask: field(j, file, 'return_attention_mask', isBool, 'a boolean', false),
  };
}

/** The HF default feature extractor, for checkpoints that ship no preprocessor_config.json. */
export const DEFAULT_PREPROCESSOR: PreprocessorConfig = { samplingRate: 16000, doNormalize: true, paddingValue: 0, returnAttentionMask: false };

/** Largest JSON file read: configs, manifests and shard indexes take kilobytes; JSON.parse of 100 MB of `[` takes 3 GB. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** A JSON object file (at most MAX_JSON_BYTES); `err` builds the error for a missing, oversized or malformed one. */
export function readJsonFile(file: string, err: (reason: string, file: string) => Error): Json {
  let text: string;
  try {
    const bytes = fs.statSync(file).size;
    if (bytes > MAX_JSON_BYTES) throw err(`is ${bytes} bytes: too large (at most ${MAX_JSON_BYTES})`, file);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof WavprobeError) throw e;
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
  return parseModelConfig(
    readJsonFile(file, (r, f) => new ConfigError(r, f)),
    file,
  );
}

export function readPreprocessorConfig(dir: string): PreprocessorConfig {
  const file = path.join(dir, 'preprocessor_config.json');
  if (!fs.existsSync(file)) return DEFAULT_PREPROCESSOR;
  return parsePreprocessorConfig(
    readJsonFile(file, (r, f) => new ConfigError(r, f)),
    file,
  );
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
