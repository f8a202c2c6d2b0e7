import * as fs from 'fs';
import * as path from 'path';
import { readCheckpoint } from '../../lib/weights/checkpoint';
import { readModelConfig } from '../../lib/weights/config';
import { mapCheckpoint } from '../../lib/weights/keymap';
import { readSafetensors } from '../../lib/weights/safetensors';
import { HostTensor } from '../../lib/weights/tensor';
import { GOLDEN_MODELS } from '../helpers/fixtures';
import { WEIGHT_FIXTURES, cleanupTmp, copyGolden, errorOf, firstBitDiff, goldenDir, maxFoldError, reLaid, readNpyF64 } from './helpers';

afterAll(cleanupTmp);

const POS = 'encoder.pos_conv_embed.conv';
const FILE = 'model.safetensors';
const load = (m: string) => ({ raw: readSafetensors(path.join(goldenDir(m), FILE)), config: readModelConfig(goldenDir(m)) });

describe.each(GOLDEN_MODELS)('mapCheckpoint(%s)', (m) => {
  const { raw, config } = load(m);
  const weights = mapCheckpoint(raw, config, FILE);

  it('keeps every HF key but masked_spec_embed, with weight norm replaced by the folded weight', () => {
    const want = [...raw.keys()].filter(
      (k) => k !== 'masked_spec_embed' && !k.startsWith(`${POS}.weight_`) && !k.startsWith(`${POS}.parametrizations`),
    );
    expect([...weights.keys()].sort()).toEqual([...want, `${POS}.weight`].sort());
  });

  it('stores every tensor bit-exact in the forward-pass layout (linear [in,out], conv [K,in,out])', () => {
    for (const [k, t] of raw) {
      if (!weights.has(k)) continue;
      const want = reLaid(k, t.shape, t.data);
      expect([k, weights.get(k)!.shape]).toEqual([k, want.shape]);
      expect([k, firstBitDiff(weights.get(k)!.data, want.data)]).toEqual([k, -1]);
    }
  });

  it('folds the positional-conv weight norm within 1e-6 of a float64 computation', () => {
    const ref = readNpyF64(path.join(WEIGHT_FIXTURES, `${m}.pos_conv.f64.npy`));
    const [O, I, K] = ref.shape;
    expect(weights.get(`${POS}.weight`)!.shape).toEqual([K, I, O]);
    expect(maxFoldError(weights.get(`${POS}.weight`)!.data, ref)).toBeLessThanOrEqual(1e-6);
  });
});

describe('mapCheckpoint on task-model and altered checkpoints', () => {
  const { raw, config } = load('wav2vec2_base_tiny');
  const plain = mapCheckpoint(raw, config, FILE);
  const t = (shape: number[]): HostTensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  const same = (a: Map<string, HostTensor>, b: Map<string, HostTensor>) => {
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, v] of a) expect([k, firstBitDiff(v.data, b.get(k)!.data)]).toEqual([k, -1]);
  };

  it('strips the wav2vec2. prefix of a task model and ignores its heads', () => {
    const task = new Map<string, HostTensor>([...raw].map(([k, v]) => [`wav2vec2.${k}`, v]));
    task.set('lm_head.weight', t([30, 32]));
    task.set('lm_head.bias', t([30]));
    task.set('quantizer.codevectors', t([1, 640, 128]));
    task.set('quantizer.weight_proj.weight', t([640, 32]));
    task.set('project_q.weight', t([256, 128]));
    task.set('project_hid.weight', t([256, 32]));
    task.set('projector.weight', t([256, 32]));
    task.set('classifier.weight', t([2, 256]));
    same(mapCheckpoint(task, config, FILE), plain);
  });

  it('maps the parametrizations naming of weight norm like weight_g / weight_v', () => {
    const renamed = new Map(raw);
    renamed.set(`${POS}.parametrizations.weight.original0`, raw.get(`${POS}.weight_g`)!);
    renamed.set(`${POS}.parametrizations.weight.original1`, raw.get(`${POS}.weight_v`)!);
    renamed.delete(`${POS}.weight_g`);
    renamed.delete(`${POS}.weight_v`);
    same(mapCheckpoint(renamed, config, FILE), plain);
  });

  it('is strict: a missing key, an unexpected key or a wrong shape is an error naming the key and file', () => {
    const missing = new Map(raw);
    missing.delete('encoder.layers.1.final_layer_norm.bias');
    expect(errorOf(() => mapCheckpoint(missing, config, FILE))).toBe(`${FILE}: missing key "encoder.layers.1.final_layer_norm.bias"`);
    const extra = new Map(raw).set('encoder.layers.0.attention.extra.weight', t([4]));
    expect(errorOf(() => mapCheckpoint(extra, config, FILE))).toMatch(
      /unexpected key "encoder.layers.0.attention.extra.weight": checkpoint does not match config.json/,
    );
    const extraLayer = new Map(raw).set('encoder.layers.2.layer_norm.weight', t([32]));
    expect(errorOf(() => mapCheckpoint(extraLayer, config, FILE))).toMatch(/unexpected key "encoder.layers.2.layer_norm.weight"/);
    const wrong = new Map(raw).set('encoder.layers.0.attention.q_proj.weight', t([32, 16]));
    expect(errorOf(() => mapCheckpoint(wrong, config, FILE))).toMatch(
      /key "encoder.layers.0.attention.q_proj.weight" has shape \[32,16\], expected \[32,32\]/,
    );
  });

  it('rejects half of a weight norm pair, both namings of the weight, and a bad g', () => {
    const half = new Map(raw);
    half.delete(`${POS}.weight_v`);
    expect(errorOf(() => mapCheckpoint(half, config, FILE))).toMatch(/missing key "encoder.pos_conv_embed.conv.weight_v"/);
    const both = new Map(raw).set(`${POS}.weight`, raw.get(`${POS}.weight_v`)!);
    expect(errorOf(() => mapCheckpoint(both, config, FILE))).toMatch(/both "encoder.pos_conv_embed.conv.weight" and its weight-norm parts/);
    const badG = new Map(raw).set(`${POS}.weight_g`, t([1, 1, 3]));
    expect(errorOf(() => mapCheckpoint(badG, config, FILE))).toMatch(/"encoder.pos_conv_embed.conv.weight_g" has shape \[1,1,3\]/);
  });
});

describe('the config against the checkpoint, before any weight is read', () => {
  it('a config with more encoder layers than the checkpoint has: one clear error, not a missing key', () => {
    const dir = copyGolden('wav2vec2_base_tiny', ['model.safetensors']);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 200 }));
    expect(errorOf(() => readCheckpoint(dir))).toBe(`${path.join(dir, FILE)}: has 2 encoder layers, but config.json says num_hidden_layers 200`);
  });
});
