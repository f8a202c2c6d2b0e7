import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { CheckpointError, UsageError } from '../../lib/errors';
import { readCheckpoint } from '../../lib/weights/checkpoint';
import { DEFAULT_PREPROCESSOR } from '../../lib/weights/config';
import { convert } from '../../lib/weights/convert';
import { loadModelDir } from '../../lib/weights';
import { readSafetensors, writeSafetensors } from '../../lib/weights/safetensors';
import { StoreInfo, readStore, writeStore } from '../../lib/weights/store';
import { GOLDEN_MODELS } from '../helpers/fixtures';
import {
  BIN_MODELS,
  cleanupTmp,
  copyGolden,
  errorOf,
  firstBitDiff,
  goldenDir,
  halfUlpF16,
  literal,
  maxFoldError,
  readNpyF64,
  reLaid,
  tmpDir,
  WEIGHT_FIXTURES,
} from './helpers';

const POS = 'encoder.pos_conv_embed.conv.weight';
const info = (dir: string): StoreInfo => JSON.parse(fs.readFileSync(path.join(dir, 'wavprobe.json'), 'utf8'));
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const leftovers = (out: string) => fs.readdirSync(path.dirname(out)).filter((n) => n.startsWith(`${path.basename(out)}.tmp-`));
const hf = (m: string) => readSafetensors(path.join(goldenDir(m), 'model.safetensors'));

afterAll(cleanupTmp);

const SOURCES = [...GOLDEN_MODELS.map((m) => [m, 'model.safetensors']), ...BIN_MODELS.map((m) => [m, 'pytorch_model.bin'])];

describe.each(SOURCES)('convert %s from %s', (m, weightFile) => {
  const raw = hf(m);
  const ref = readNpyF64(path.join(WEIGHT_FIXTURES, `${m}.pos_conv.f64.npy`));

  it('float32: every stored tensor equals the HF tensor re-laid-out, bit-exact; the fold within 1e-6 of float64', async () => {
    const out = path.join(tmpDir(), 'store');
    const s = await convert(goldenDir(m), out, { weightFile });
    expect(s.info).toMatchObject({ dtype: 'float32', sourceWeightFile: weightFile, modelType: readCheckpoint(goldenDir(m)).config.modelType });
    const store = readStore(out, { verify: true });
    let compared = 0;
    for (const [k, t] of raw) {
      if (!store.weights.has(k)) continue;
      const want = reLaid(k, t.shape, t.data);
      expect([k, store.weights.get(k)!.shape]).toEqual([k, want.shape]);
      expect([k, firstBitDiff(store.weights.get(k)!.data, want.data)]).toEqual([k, -1]);
      compared++;
    }
    expect(compared).toBe(store.weights.size - 1); // all but the folded pos-conv weight
    expect(maxFoldError(store.weights.get(POS)!.data, ref)).toBeLessThanOrEqual(1e-6);
    expect(leftovers(out)).toEqual([]);
  });

  it('float16: every stored value within float16 rounding of the original', async () => {
    const out = path.join(tmpDir(), 'store16');
    await convert(goldenDir(m), out, { weightFile, dtype: 'float16' });
    const store = readStore(out);
    for (const [k, t] of raw) {
      if (!store.weights.has(k)) continue;
      const want = reLaid(k, t.shape, t.data).data;
      const got = store.weights.get(k)!.data;
      const bad = want.findIndex((x, i) => !(Math.abs(got[i] - x) <= halfUlpF16(x)));
      expect([k, bad]).toEqual([k, -1]);
    }
    const [O, I, K] = ref.shape;
    const pos = store.weights.get(POS)!.data;
    let outside = 0;
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let k = 0; k < K; k++) {
          const x = ref.data[o * I * K + i * K + k];
          if (!(Math.abs(pos[k * I * O + i * O + o] - x) <= halfUlpF16(x) + 1e-6)) outside++;
        }
    expect(outside).toBe(0);
  });
});

describe('store format', () => {
  const m = 'wavlm_large_tiny';

  it('wavprobe.json records source, dtype, layouts and the size and sha256 of every file', async () => {
    const out = path.join(tmpDir(), 'store');
    await convert(goldenDir(m), out, { dtype: 'float16' });
    const j = info(out);
    expect(j).toMatchObject({
      format: 'wavprobe-weights',
      formatVersion: 1,
      source: path.resolve(goldenDir(m)),
      sourceWeightFile: 'model.safetensors',
      dtype: 'float16',
      preprocessorConfig: 'copied',
    });
    expect(Object.keys(j.layouts).sort()).toEqual(['conv', 'linear', 'other', 'pos_conv']);
    const files = fs
      .readdirSync(out)
      .filter((f) => f !== 'wavprobe.json')
      .sort();
    expect(Object.keys(j.files).sort()).toEqual(files);
    for (const f of files) expect([f, j.files[f]]).toEqual([f, { bytes: fs.statSync(path.join(out, f)).size, sha256: sha(path.join(out, f)) }]);
    expect(fs.readFileSync(path.join(out, 'config.json'))).toEqual(fs.readFileSync(path.join(goldenDir(m), 'config.json')));
    const params = [...readCheckpoint(goldenDir(m)).weights.values()].reduce((a, t) => a + t.data.length, 0);
    expect(j.parameters).toBe(params);
    expect(j.files['group1-shard1of1.bin'].bytes).toBe(2 * params);
  });

  it('model.json is a TF.js weights manifest that tf.io.decodeWeights reads to the same tensors', async () => {
    await useBackend('cpu');
    for (const dtype of ['float32', 'float16'] as const) {
      const out = path.join(tmpDir(), `tfjs-${dtype}`);
      await convert(goldenDir(m), out, { dtype, shardBytes: 20000 });
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
      const group = manifest.weightsManifest[0];
      expect(group.paths.length).toBeGreaterThan(1);
      const bytes = Buffer.concat(group.paths.map((p: string) => fs.readFileSync(path.join(out, p))));
      const before = tf.memory().numTensors;
      const decoded = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), group.weights);
      const store = readStore(out);
      for (const [k, t] of store.weights) {
        expect([k, decoded[k].shape]).toEqual([k, t.shape]);
        expect([k, firstBitDiff(decoded[k].dataSync() as Float32Array, t.data)]).toEqual([k, -1]);
      }
      tf.dispose(Object.values(decoded));
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('shards split weights across files and read back identically; loadModelDir reads stores and HF dirs alike', async () => {
    const one = path.join(tmpDir(), 'one');
    const many = path.join(tmpDir(), 'many');
    await convert(goldenDir(m), one, {});
    await convert(goldenDir(m), many, { shardBytes: 7000 });
    const paths = JSON.parse(fs.readFileSync(path.join(many, 'model.json'), 'utf8')).weightsManifest[0].paths as string[];
    expect(paths.length).toBe(Math.ceil(fs.statSync(path.join(one, 'group1-shard1of1.bin')).size / 7000));
    expect(paths[0]).toBe(`group1-shard1of${paths.length}.bin`);
    const a = loadModelDir(one);
    const b = readStore(many);
    const c = loadModelDir(goldenDir(m));
    for (const other of [b, c]) {
      expect([...other.weights.keys()]).toEqual([...a.weights.keys()]);
      for (const [k, t] of a.weights) expect([k, firstBitDiff(other.weights.get(k)!.data, t.data)]).toEqual([k, -1]);
      expect(other.config).toEqual(a.config);
      expect(other.preprocessor).toEqual(a.preprocessor);
    }
    expect(a.weightFile).toBe(path.join(one, 'model.json'));
  });

  it('writes the default preprocessor config when the source has none', async () => {
    const src = copyGolden('hubert_base_tiny', ['model.safetensors']);
    fs.rmSync(path.join(src, 'preprocessor_config.json'));
    const out = path.join(tmpDir(), 'store');
    await convert(src, out);
    expect(info(out).preprocessorConfig).toBe('default');
    expect(readStore(out).preprocessor).toEqual(DEFAULT_PREPROCESSOR);
  });
});

describe('readStore errors name the file', () => {
  const m = 'hubert_base_tiny';
  let out: string;
  beforeEach(async () => {
    out = path.join(tmpDir(), 'store');
    await convert(goldenDir(m), out, { shardBytes: 40000 });
  });

  it('a truncated or missing shard', () => {
    const shard = path.join(out, 'group1-shard2of3.bin');
    fs.truncateSync(shard, 100);
    expect(errorOf(() => readStore(out))).toMatch(new RegExp(`^${literal(shard)}: is 100 bytes, but wavprobe.json says \\d+: truncated or modified`));
    fs.rmSync(shard);
    expect(errorOf(() => readStore(out))).toBe(`${shard}: missing from the weight store`);
  });

  it('a modified byte: caught by the sha256 check (verify), not by the size check', () => {
    const shard = path.join(out, 'group1-shard1of3.bin');
    const b = fs.readFileSync(shard);
    b[10] ^= 0xff;
    fs.writeFileSync(shard, b);
    expect(() => readStore(out)).not.toThrow();
    expect(errorOf(() => readStore(out, { verify: true }))).toBe(`${shard}: sha256 does not match wavprobe.json: corrupt or modified`);
  });

  it('a manifest that does not match config.json, an unknown version', () => {
    const mf = path.join(out, 'model.json');
    const j = JSON.parse(fs.readFileSync(mf, 'utf8'));
    j.weightsManifest[0].weights[3].shape = [1, 2, 3];
    fs.writeFileSync(mf, JSON.stringify(j));
    const w = j.weightsManifest[0].weights[3].name;
    const infoFile = path.join(out, 'wavprobe.json');
    const i = info(out);
    i.files['model.json'].bytes = fs.statSync(mf).size;
    fs.writeFileSync(infoFile, JSON.stringify(i));
    expect(errorOf(() => readStore(out))).toMatch(new RegExp(`^${literal(mf)}: weight "${literal(w)}" has shape \\[1,2,3\\], expected`));
    fs.writeFileSync(infoFile, JSON.stringify({ ...i, formatVersion: 2 }));
    expect(errorOf(() => readStore(out))).toBe(`${infoFile}: store format version 2 is not supported (this wavprobe reads 1)`);
  });
});

describe('writeStore is atomic', () => {
  it('refuses an existing output directory and leaves it alone', async () => {
    const out = tmpDir();
    fs.writeFileSync(path.join(out, 'keep.txt'), 'x');
    await expect(convert(goldenDir('wav2vec2_base_tiny'), out)).rejects.toThrow(UsageError);
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
  });

  it('removes its temporary directory when writing fails', () => {
    const ckpt = readCheckpoint(goldenDir('wav2vec2_base_tiny'));
    const out = path.join(tmpDir(), 'store');
    expect(() => writeStore(out, { ...ckpt, dir: tmpDir() }, { dtype: 'float32', source: 'x' })).toThrow(/cannot write the store/); // no config.json to copy
    expect(fs.existsSync(out)).toBe(false);
    expect(leftovers(out)).toEqual([]);
  });
});

// Issue 14, class 3: a NaN or ±Inf weight makes every output NaN, which used to score as a confident "bona-fide".
describe('non-finite weights', () => {
  const KEY = 'encoder.layers.1.attention.q_proj.weight';
  /** A copy of the golden wav2vec2 checkpoint with `v` at index `at` of KEY (HF layout). */
  const withValue = (v: number, at = 17): string => {
    const dir = copyGolden('wav2vec2_base_tiny');
    const t = hf('wav2vec2_base_tiny');
    t.get(KEY)!.data[at] = v;
    writeSafetensors(path.join(dir, 'model.safetensors'), t);
    return dir;
  };

  it('convert and a checkpoint directory loaded directly refuse NaN and ±Inf, naming the tensor and the index', async () => {
    for (const v of [NaN, Infinity, -Infinity]) {
      const dir = withValue(v);
      const want = `${path.join(dir, 'model.safetensors')}: ${KEY}: non-finite value ${v} at index 17`;
      const out = path.join(tmpDir(), 'store');
      await expect(convert(dir, out)).rejects.toThrow(
        new CheckpointError(`${KEY}: non-finite value ${v} at index 17`, path.join(dir, 'model.safetensors')),
      );
      expect(fs.existsSync(out)).toBe(false);
      expect(errorOf(() => loadModelDir(dir))).toBe(want);
    }
  });

  it('convert --dtype float16 refuses a value that float16 cannot hold', async () => {
    const out = path.join(tmpDir(), 'store');
    await expect(convert(withValue(70000), out, { dtype: 'float16' })).rejects.toThrow(
      `${KEY}: 70000 does not fit in float16 (largest 65504): convert with --dtype float32`,
    );
    expect(leftovers(out)).toEqual([]);
    await convert(withValue(65504), out, { dtype: 'float16' }); // the largest half converts
  });

  it.each(['float32', 'float16'] as const)('a %s store whose shard was changed to hold NaN is refused at load, naming the weight', async (dtype) => {
    const out = path.join(tmpDir(), 'store');
    await convert(goldenDir('wav2vec2_base_tiny'), out, { dtype });
    const weights = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).weightsManifest[0].weights as {
      name: string;
      shape: number[];
    }[];
    const per = dtype === 'float16' ? 2 : 4;
    const i = weights.findIndex((w) => w.name === KEY);
    const at = weights.slice(0, i).reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0) + 5; // element 5 of KEY
    const shard = path.join(out, 'group1-shard1of1.bin');
    const b = fs.readFileSync(shard);
    if (dtype === 'float16') b.writeUInt16LE(0x7e00, at * per);
    else b.writeFloatLE(NaN, at * per);
    fs.writeFileSync(shard, b); // same size: only verify's sha256 would notice
    expect(errorOf(() => readStore(out))).toBe(`${path.join(out, 'model.json')}: ${KEY}: non-finite value NaN at index 5`);
  });
});
