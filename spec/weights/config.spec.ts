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
    if (m === 'wav2vec2_large_tiny')
      expect(c).toMatchObject({ featExtractNorm: 'layer', doStableLayerNorm: true, convBias: true, layerNormEps: 1e-3 });
    if (m === 'hubert_base_tiny')
      expect(c).toMatchObject({ modelType: 'hubert', numConvPosEmbeddings: 15, numConvPosEmbeddingGroups: 4, featExtractNorm: 'group' });
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

  // Issue 14, class 7: sizes that would exhaust memory, and values that make the forward pass compute NaN.
  it('range-checks every numeric field against the documented caps', () => {
    reject({ num_hidden_layers: 1e8 }, 'field "num_hidden_layers" must be a positive integer ≤ 256, got 100000000');
    reject({ num_hidden_layers: 1e6 }, 'must be a positive integer ≤ 256');
    reject({ hidden_size: 1e300, num_attention_heads: 1 }, 'field "hidden_size" must be a positive integer ≤ 8192, got 1e\\+300');
    reject({ intermediate_size: 40000 }, 'field "intermediate_size" must be a positive integer ≤ 32768');
    reject({ num_attention_heads: 2000 }, 'field "num_attention_heads" must be a positive integer ≤ 1024');
    reject({ conv_dim: [32, 32, 1e5] }, 'field "conv_dim" must be a list of 1 to 16 positive integers ≤ 8192');
    reject({ conv_kernel: [10, 3, 1e9] }, 'field "conv_kernel" must be a list of 1 to 16 positive integers ≤ 1024');
    reject({ conv_stride: [5, 2, 0] }, 'field "conv_stride" must be a list of 1 to 16 positive integers ≤ 1024');
    reject(
      { conv_dim: Array(20).fill(8), conv_kernel: Array(20).fill(2), conv_stride: Array(20).fill(1) },
      'field "conv_dim" must be a list of 1 to 16',
    );
    reject({ num_conv_pos_embeddings: 5000 }, 'field "num_conv_pos_embeddings" must be a positive integer ≤ 1024');
    for (const eps of [-1, 0, 1, Infinity]) reject({ layer_norm_eps: eps }, 'field "layer_norm_eps" must be a number > 0 and < 1');
    reject({ num_buckets: 2 }, 'field "num_buckets" must be a positive integer from 4 to 4096');
    reject({ num_buckets: 320, max_bucket_distance: 80 }, 'max_bucket_distance 80 must be more than num_buckets / 4 \\(80\\)');
  });

  it('refuses a config whose largest weight would hold more than 2^28 values, naming it', () => {
    const big = { hidden_size: 8192, num_attention_heads: 16, num_conv_pos_embedding_groups: 1, num_conv_pos_embeddings: 1024 };
    reject(big, '"encoder.pos_conv_embed.conv.weight" would hold 68719476736 values \\[8192,8192,1024\\]: more than the 268435456 a weight may have');
  });

  it('summarises a bad value in the message instead of walking it', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200000; i++) deep = [deep];
    reject({ hidden_size: deep }, 'field "hidden_size" must be a positive integer ≤ 8192, got a list of 1 item');
    reject({ model_type: 'x'.repeat(100000) }, 'unsupported model_type "xxxxx');
  });

  it('names the file when config.json is missing or not JSON', () => {
    const d = tmpDir();
    expect(() => readModelConfig(d)).toThrow(new RegExp(`${path.join(d, 'config.json')}: cannot read: ENOENT`));
    fs.writeFileSync(path.join(d, 'config.json'), '{"model_type": ');
    expect(() => readModelConfig(d)).toThrow(/config.json: not a valid JSON object/);
  });

  it('refuses a JSON file over 4 MiB before parsing it', () => {
    const d = tmpDir();
    fs.writeFileSync(path.join(d, 'config.json'), `${'['.repeat(3e6)}${']'.repeat(3e6)}`); // JSON.parse would take seconds and GBs at 100 MB
    expect(() => readModelConfig(d)).toThrow(/config.json: is 6000000 bytes: too large \(at most 4194304\)/);
  });
});

describe('preprocessor_config.json', () => {
  it('parses the golden settings and defaults a missing file to HF defaults', () => {
    expect(readPreprocessorConfig(goldenDir('wav2vec2_base_tiny'))).toEqual({
      samplingRate: 16000,
      doNormalize: true,
      paddingValue: 0,
      returnAttentionMask: false,
    });
    expect(readPreprocessorConfig(tmpDir())).toEqual(DEFAULT_PREPROCESSOR);
  });

  it('takes 16 kHz audio only, and finite padding', () => {
    expect(() => parsePreprocessorConfig({ sampling_rate: 8000 }, 'p.json')).toThrow(
      /^p.json: sampling_rate 8000 is not supported: every supported model takes 16000 Hz audio/,
    );
    expect(() => parsePreprocessorConfig({ padding_value: Infinity }, 'p.json')).toThrow(/field "padding_value" must be a finite number/);
  });

  it('rejects what the feature extractor does not do, naming the field', () => {
    expect(() => parsePreprocessorConfig({ feature_size: 80 }, 'p.json')).toThrow(/^p.json: field "feature_size" must be 1/);
    expect(() => parsePreprocessorConfig({ padding_side: 'left' }, 'p.json')).toThrow(/"padding_side" is "left"/);
    expect(() => parsePreprocessorConfig({ sampling_rate: 'x' }, 'p.json')).toThrow(/field "sampling_rate" must be a positive integer/);
  });
});
