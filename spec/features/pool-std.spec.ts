/**
 * `--pool mean,std`: the per-dimension standard deviation over a file's frames, stored as layer_NN_std.npy beside
 * layer_NN.npy. Checked against float64 computations written here from forward's hidden states.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { loadAudio } from '../../lib/audio';
import { readDataset } from '../../lib/data';
import { extractFeatures } from '../../lib/features/extract';
import { lfccFrontEnd, openFrontEnd } from '../../lib/features/frontends';
import { mergeStores } from '../../lib/features/merge';
import { readNpy } from '../../lib/features/npy';
import { meanPoolTensor, stdPool, stdPoolTensor } from '../../lib/features/pool';
import { readStore, stdFile } from '../../lib/features/store';
import { disposeOutput, inputTensors, loadModel, preprocess } from '../../lib/models';
import { GOLDEN } from '../helpers/fixtures';

const ROOT = path.join(__dirname, '..', '..');
const MODEL = path.join(GOLDEN, 'wav2vec2_base_tiny');
const items = readDataset(`in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'dev')}`).slice(0, 6);
const bytes = (dir: string) =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f === 'index.csv' || f.startsWith('layer_'))
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]),
  );

/** Population std of each column of the first `valid` rows of [T, D], two-pass in float64. */
function std64(h: ArrayLike<number>, T: number, D: number, valid = T): number[] {
  return Array.from({ length: D }, (_, j) => {
    let m = 0;
    for (let t = 0; t < valid; t++) m += h[t * D + j];
    m /= valid;
    let v = 0;
    for (let t = 0; t < valid; t++) v += (h[t * D + j] - m) ** 2;
    return Math.sqrt(v / valid);
  });
}

let tmp: string;
beforeAll(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-std-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('stdPool and stdPoolTensor', () => {
  it('give the population std of the valid frames (hand values; a large mean does not cancel it)', () => {
    // column 0: 1, 3, (99 padding) → std 1; column 1: 1e6 + 0, 1e6 + 2 → std 1
    const h = Float32Array.from([1, 1e6, 3, 1e6 + 2, 99, 99]);
    expect(Array.from(stdPool(h, 3, 2, 2))).toEqual([1, 1]);
    expect(() => stdPool(h, 3, 2, 0)).toThrow(/stdPool: validFrames must be an integer in 1…3, got 0/);
    const before = tf.memory().numTensors;
    const t = tf.tensor3d(Array.from(h), [1, 3, 2]);
    const mask = tf.tensor2d([1, 1, 0], [1, 3]);
    const mean = meanPoolTensor(t, mask);
    const s = stdPoolTensor(t, mean, mask);
    expect(Array.from(s.dataSync())).toEqual([1, 1]);
    tf.dispose([t, mask, mean, s]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('agrees with a float64 two-pass std on random frames, masked per batch row', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 1;
    const [B, T, D] = [2, 50, 8];
    const h = Float32Array.from({ length: B * T * D }, () => 3 + rand());
    const valid = [50, 31];
    const t = tf.tensor3d(h, [B, T, D]);
    const mask = tf.tensor2d(
      Array.from({ length: B * T }, (_, i) => (i % T < valid[Math.floor(i / T)] ? 1 : 0)),
      [B, T],
    );
    const mean = meanPoolTensor(t, mask);
    const s = stdPoolTensor(t, mean, mask).dataSync();
    for (let b = 0; b < B; b++) {
      const ref = std64(h.subarray(b * T * D, (b + 1) * T * D), T, D, valid[b]);
      const js = stdPool(h.subarray(b * T * D, (b + 1) * T * D), T, D, valid[b]);
      for (let j = 0; j < D; j++) {
        expect(Math.abs(s[b * D + j] - ref[j])).toBeLessThan(1e-5 * ref[j]);
        expect(Math.abs(js[j] - ref[j])).toBeLessThan(1e-7 * ref[j]);
      }
    }
    tf.dispose([t, mask, mean]);
  });
});

describe('extract --pool mean,std', () => {
  let reference: string;
  let meanOnly: string;

  it("stores each layer's std over frames as layer_NN_std.npy, equal to a float64 std of forward's hidden states", async () => {
    reference = path.join(tmp, 'std');
    const fe = openFrontEnd({ model: MODEL, layers: 'all', pooling: 'mean,std' });
    const s = await extractFeatures(items, fe, reference);
    fe.dispose();
    expect(s).toMatchObject({ ok: 6, complete: true });
    const store = readStore(reference, { std: true });
    expect(store.meta).toMatchObject({ pooling: 'mean,std', layers: [0, 1, 2] });
    expect([...store.std.keys()]).toEqual([0, 1, 2]);
    // A plain NumPy .npy file: float32, C order, [N, D].
    const npy = readNpy(stdFile(reference, 1));
    expect(npy.shape).toEqual([6, 32]);
    expect(fs.readFileSync(stdFile(reference, 1)).subarray(0, 128).toString('latin1')).toMatch(
      /'descr': '<f4', 'fortran_order': False, 'shape': \(6, 32\)/,
    );
    const model = loadModel(MODEL);
    for (const row of [0, 4]) {
      const { inputValues } = inputTensors(preprocess([(await loadAudio(items[row].path)).samples], model.preprocessor));
      const out = model.forward(inputValues);
      for (const k of [0, 1, 2]) {
        const [, T, H] = out.hiddenStates[k].shape;
        const ref = std64(out.hiddenStates[k].dataSync(), T, H);
        const got = store.std.get(k)!.data.subarray(row * H, (row + 1) * H);
        for (let j = 0; j < H; j++) expect(Math.abs(got[j] - ref[j])).toBeLessThan(1e-5 * Math.max(1, ref[j]));
      }
      inputValues.dispose();
      disposeOutput(out);
    }
    model.dispose();
  });

  it('leaves the means byte-identical to a mean-only extraction, whose store stays valid without std files', async () => {
    meanOnly = path.join(tmp, 'mean');
    const fe = openFrontEnd({ model: MODEL, layers: 'all' });
    await extractFeatures(items, fe, meanOnly);
    fe.dispose();
    const withStd = bytes(reference);
    const plain = bytes(meanOnly);
    expect(Object.keys(plain)).toEqual(['index.csv', 'layer_00.npy', 'layer_01.npy', 'layer_02.npy']);
    for (const f of Object.keys(plain)) expect(withStd[f]).toBe(plain[f]);
    expect(readStore(meanOnly).std.size).toBe(0);
    expect(() => readStore(meanOnly, { layers: [2], std: true })).toThrow(
      `${stdFile(meanOnly, 2)}: no standard deviations in the feature store (extract with --pool mean,std)`,
    );
  });

  it('resumes and merges shards with the std arrays, byte for byte', async () => {
    const out = path.join(tmp, 'stopped');
    let n = 0;
    const fe = openFrontEnd({ model: MODEL, layers: 'all', pooling: 'mean,std' });
    expect((await extractFeatures(items, fe, out, { shouldStop: () => ++n > 3 })).complete).toBe(false);
    // The journal of a mean-only run is another extraction.
    await expect(extractFeatures(items, lfccFrontEnd(), out)).rejects.toThrow(/other settings or other files/);
    expect((await extractFeatures(items, fe, out)).complete).toBe(true);
    expect(bytes(out)).toEqual(bytes(reference));
    const shards = [0, 1].map((i) => path.join(tmp, `shard${i}`));
    for (const [i, d] of shards.entries()) await extractFeatures(items, fe, d, { shard: { index: i, count: 2 } });
    fe.dispose();
    const merged = path.join(tmp, 'merged');
    mergeStores(shards, merged);
    expect(bytes(merged)).toEqual(bytes(reference));
    expect(readStore(merged).meta).toMatchObject({ pooling: 'mean,std' });
    // A mean-only shard does not join a mean,std one.
    const plainShard = path.join(tmp, 'plain-shard1');
    const plain = openFrontEnd({ model: MODEL, layers: 'all' });
    await extractFeatures(items, plain, plainShard, { shard: { index: 1, count: 2 } });
    plain.dispose();
    expect(() => mergeStores([shards[0], plainShard], path.join(tmp, 'm2'))).toThrow(/another model, layers, --pool or --max-seconds/);
  });

  it('gives the same store, stds included, with 2 worker threads', async () => {
    const out = path.join(tmp, 'workers');
    expect(await extractFeatures(items, { model: MODEL, layers: 'all', pooling: 'mean,std' }, out, { workers: 2 })).toMatchObject({ ok: 6 });
    expect(bytes(out)).toEqual(bytes(reference));
  });

  it('LFCC pools mean and std too', async () => {
    const out = path.join(tmp, 'lfcc');
    await extractFeatures(items.slice(0, 2), lfccFrontEnd('mean,std'), out);
    const s = readStore(out, { std: true });
    expect(s.std.get(0)!.d).toBe(60);
    expect(s.std.get(0)!.data.every((v) => v >= 0)).toBe(true);
  });
});
