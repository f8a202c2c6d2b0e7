import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../lib/errors';
import { DEFAULT_PREPROCESSOR, parseModelConfig, parsePreprocessorConfig, readModelConfig, readPreprocessorConfig } from '../../lib/weights/config';
import { GOLDEN_MODELS } from '../helpers/fixtures';
import { cleanupTmp, goldenDir, tmpDir } from './helpers';

const golden = (m: string) => JSON.parse(fs.readFileSync(path.join(goldenDir(m), 'config.json'), 'utf8'));
const F = 'config.json';

afterAll(cleanupTmp);

describe('config.json', () => {
  it.each(GOLDEN_MODELS)('parses %s as its README table says', (m) => {
    const c = readModelConfig(goldenDir(m));
    expect(c.hiddenSize).toBe(32);
    expect(c.convDim.length).toBe(c.convKernel.length);
    if (m === 'wav2vec2_large_tiny') expect(c).toMatchObject({ featExtractNorm: 'layer', doStableLayerNorm: true, convBias: true, layerNormEps: 1e-3 });
    if (m === 'hubert_base_tiny') expect(c).toMatchObject({ modelType: 'hubert', numConvPosEmbeddings: 15, numConvPosEmbeddingGroups: 4, featExtractNorm: 'group' });
    if (m === 'wavlm_large_tiny') expect(c).toMatchObject({ modelType: 'wavlm', numBuckets: 32, maxBucketDistance: 40, numHiddenLayers: 2 });
  });

  const reject = (patch: Record<string, unknown>, field: string) => {
    const j = { ...golden('wav2vec2_base_tiny'), ...patch };
    for (const k of Object.keys(patch)) if (patch[k] === undefined) delete j[k];
    let err: unknown;
    try {
      parseModelConfig(j, F);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(new RegExp(`^${F}: .*${field}`));
  };

  it('rejects unsupported model types and features, naming the field', () => {
    reject({ model_type: 'data2vec-audio' }, 'unsupported model_type "data2vec-audio"');
    reject({ add_adapter: true }, '"add_adapter" is true');
    reject({ conv_pos_batch_norm: true }, '"conv_pos_batch_norm" is true');
    reject({ feat_proj_layer_norm: false }, '"feat_proj_layer_norm" is false');
    reject({ position_embeddings_type: 'rotary' }, '"position_embeddings_type" is "rotary"');
    reject({ hidden_act: 'relu' }, '"hidden_act" is "relu"');
    reject({ feat_extract_activation: 'swish' }, '"feat_extract_activation"');
  });

  it('rejects missing or malformed fields, naming them', () => {
    reject({ hidden_size: undefined }, 'missing field "hidden_size"');
    reject({ num_hidden_layers: 0 }, 'field "num_hidden_layers" must be a positive integer');
    reject({ conv_dim: [32, 32] }, 'conv_dim, conv_kernel and conv_stride must have the same length');
    reject({ feat_extract_norm: 'batch' }, 'field "feat_extract_norm" must be "group" or "layer"');
    reject({ num_attention_heads: 5 }, 'not divisible by num_attention_heads 5');
    reject({ num_feat_extract_layers: 7 }, 'num_feat_extract_layers 7 does not match 3 conv layers');
  });

  it('names the file when config.json is missing or not JSON', () => {
    const d = tmpDir();
    expect(() => readModelConfig(d)).toThrow(new RegExp(`${path.join(d, 'config.json')}: cannot read: ENOENT`));
    fs.writeFileSync(path.join(d, 'config.json'), '{"model_type": ');
    expect(() => readModelConfig(d)).toThrow(/config.json: not a valid JSON object/);
  });
});

describe('preprocessor_config.json', () => {
  it('parses the golden settings and defaults a missing file to HF defaults', () => {
    expect(readPreprocessorConfig(goldenDir('wav2vec2_base_tiny'))).toEqual({ samplingRate: 16000, doNormalize: true, paddingValue: 0, returnAttentionMask: false });
    expect(readPreprocessorConfig(tmpDir())).toEqual(DEFAULT_PREPROCESSOR);
  });

  it('rejects what the feature extractor does not do, naming the field', () => {
    expect(() => parsePreprocessorConfig({ feature_size: 80 }, 'p.json')).toThrow(/^p.json: field "feature_size" must be 1/);
    expect(() => parsePreprocessorConfig({ padding_side: 'left' }, 'p.json')).toThrow(/"padding_side" is "left"/);
    expect(() => parsePreprocessorConfig({ sampling_rate: 'x' }, 'p.json')).toThrow(/field "sampling_rate" must be a positive integer/);
  });
});
