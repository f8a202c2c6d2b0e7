import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { readDataset } from '../../lib/data';
import { extractFeatures } from '../../lib/features/extract';
import { mergeStores } from '../../lib/features/merge';
import { shardItems } from '../../lib/features/plan';
import { lfccFrontEnd, openFrontEnd } from '../../lib/features/frontends';
import { readStore } from '../../lib/features/store';
import { loadAudio } from '../../lib/audio';
import { disposeOutput, inputTensors, loadModel, preprocess } from '../../lib/models';
import { GOLDEN } from '../helpers/fixtures';

const ROOT = path.join(__dirname, '..', '..');
const MODEL = path.join(GOLDEN, 'wav2vec2_base_tiny');
const items = readDataset(`in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'dev')}`).slice(0, 24);
const storeFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f === 'index.csv' || f.startsWith('layer_') || f === 'errors.csv')
    .sort();
const bytes = (dir: string) => Object.fromEntries(storeFiles(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));

let tmp: string;
beforeAll(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-extract-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('extractFeatures', () => {
  let reference: string;

  it('writes a store whose rows are the mean-pooled layers of each file, leaking no tensor', async () => {
    reference = path.join(tmp, 'ref');
    const before = tf.memory().numTensors;
    const fe = openFrontEnd({ model: MODEL, layers: 'all' });
    const s = await extractFeatures(items, fe, reference);
    fe.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(s).toMatchObject({ total: 24, ok: 24, failed: 0, complete: true });
    const store = readStore(reference);
    expect([...store.layers.keys()]).toEqual([0, 1, 2]);
    expect(store.index.map((r) => r.id)).toEqual(items.map((i) => i.id));
    expect(fs.existsSync(`${reference}.partial`)).toBe(false);
    // Row 5 by hand: a plain forward of that file, each hidden state averaged over its frames in float64.
    const model = loadModel(MODEL);
    const { inputValues } = inputTensors(preprocess([(await loadAudio(items[5].path)).samples], model.preprocessor));
    const out = model.forward(inputValues);
    for (const k of [0, 1, 2]) {
      const [, T, H] = out.hiddenStates[k].shape;
      const h = out.hiddenStates[k].dataSync();
      const row = store.layers.get(k)!.data.subarray(5 * H, 6 * H);
      for (let j = 0; j < H; j++) {
        let sum = 0;
        for (let t = 0; t < T; t++) sum += h[t * H + j];
        expect(Math.abs(row[j] - sum / T)).toBeLessThan(1e-5);
      }
    }
    inputValues.dispose();
    disposeOutput(out);
    model.dispose();
  });

  it('resumes after a hard kill and a torn write, byte-identical to an uninterrupted run', async () => {
    const out = path.join(tmp, 'killed');
    // A child process extracts and SIGKILLs itself after 9 files.
    const script = `
      const { useBackend } = require('./lib/backend');
      const { readDataset } = require('./lib/data');
      const { extractFeatures } = require('./lib/features/extract');
      const { openFrontEnd } = require('./lib/features/frontends');
      (async () => {
        await useBackend('wasm');
        const items = readDataset(${JSON.stringify(`in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'dev')}`)}).slice(0, 24);
        await extractFeatures(items, openFrontEnd({ model: ${JSON.stringify(MODEL)}, layers: 'all' }), ${JSON.stringify(out)},
          { onProgress: (p) => { if (p.done === 9) process.kill(process.pid, 'SIGKILL'); } });
      })();`;
    const child = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    // tsx runs the script in a child node process and passes the kill on as exit status 128 + 9.
    expect(child.signal === 'SIGKILL' || child.status === 137).toBe(true);
    const partial = `${out}.partial`;
    expect(fs.statSync(path.join(partial, 'status.bin')).size).toBe(9);
    // Tear the next item's write: half a record and half an info line, no status byte.
    fs.appendFileSync(path.join(partial, 'features.f32'), Buffer.alloc(100, 7));
    fs.appendFileSync(path.join(partial, 'info.jsonl'), '{"i":9,"dur');
    const fe = openFrontEnd({ model: MODEL, layers: 'all' });
    const s = await extractFeatures(items, fe, out);
    fe.dispose();
    expect(s.complete).toBe(true);
    expect(bytes(out)).toEqual(bytes(reference));
  });

  it('stops cleanly when asked and continues on the next run', async () => {
    const out = path.join(tmp, 'stopped');
    let n = 0;
    const fe = lfccFrontEnd();
    const first = await extractFeatures(items, fe, out, { shouldStop: () => ++n > 5 });
    expect(first.complete).toBe(false);
    expect(fs.existsSync(out)).toBe(false);
    const second = await extractFeatures(items, fe, out);
    expect(second.complete).toBe(true);
    const whole = path.join(tmp, 'lfcc-whole');
    await extractFeatures(items, fe, whole);
    expect(bytes(out)).toEqual(bytes(whole));
  });

  it('refuses to resume a journal of a different extraction', async () => {
    const out = path.join(tmp, 'other');
    let n = 0;
    await extractFeatures(items, lfccFrontEnd(), out, { shouldStop: () => ++n > 2 });
    await expect(extractFeatures(items.slice(1), lfccFrontEnd(), out)).rejects.toThrow(/other settings or other files/);
  });

  it('3 shards + merge equal the unsharded store', async () => {
    const fe = openFrontEnd({ model: MODEL, layers: 'all' });
    const dirs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = path.join(tmp, `shard${i}`);
      await extractFeatures(items, fe, d, { shard: { index: i, count: 3 } });
      dirs.push(d);
    }
    fe.dispose();
    expect(shardItems(items, { index: 1, count: 3 }).length).toBe(8);
    const merged = path.join(tmp, 'merged');
    mergeStores([dirs[2], dirs[0], dirs[1]], merged);
    expect(bytes(merged)).toEqual(bytes(reference));
    expect(() => mergeStores([dirs[0], dirs[1]], path.join(tmp, 'm2'))).toThrow(/2 shard stores given, the extraction has 3/);
  });

  it('records files that fail to decode in errors.csv and carries on', async () => {
    const bad = path.join(tmp, 'bad.wav');
    fs.writeFileSync(bad, Buffer.from('RIFF....WAVEjunk'));
    const mixed = [...items.slice(0, 3), { id: 'bad.wav', path: bad, label: 'spoof' as const }, ...items.slice(3, 5)];
    const out = path.join(tmp, 'with-errors');
    const s = await extractFeatures(mixed, lfccFrontEnd(), out);
    expect(s).toMatchObject({ ok: 5, failed: 1 });
    expect(readStore(out).index.map((r) => r.id)).not.toContain('bad.wav');
    expect(fs.readFileSync(path.join(out, 'errors.csv'), 'utf8')).toMatch(/^id,path,error\nbad\.wav,.*bad\.wav,.+/);
  });

  it("a file whose pooled features are not finite is that file's error, never a row", async () => {
    // Once an all-NaN store was written with exit code 0. Here the front-end overflows on every third file.
    const lfcc = lfccFrontEnd();
    let calls = 0;
    const overflowing = {
      ...lfcc,
      pool: async (x: Float32Array) => {
        const r = await lfcc.pool(x);
        if (calls++ % 3 === 1) r.vectors[0][7] = NaN;
        return r;
      },
    };
    const out = path.join(tmp, 'non-finite');
    const s = await extractFeatures(items.slice(0, 6), overflowing, out);
    expect(s).toMatchObject({ ok: 4, failed: 2 });
    expect(readStore(out).index.map((r) => r.id)).toEqual([0, 2, 3, 5].map((i) => items[i].id));
    expect(fs.readFileSync(path.join(out, 'errors.csv'), 'utf8').split('\n').slice(1, 3)).toEqual(
      [1, 4].map((i) => `${items[i].id},${items[i].path},"the model produced a non-finite feature (NaN at layer 0, dimension 7)"`),
    );
    const allBad = { ...lfcc, pool: async (x: Float32Array) => ({ ...(await lfcc.pool(x)), vectors: [new Float32Array(60).fill(NaN)] }) };
    await expect(extractFeatures(items.slice(0, 3), allBad, path.join(tmp, 'all-nan'))).rejects.toThrow(/no file could be read \(3 failed/);
    expect(fs.existsSync(path.join(tmp, 'all-nan'))).toBe(false);
  });

  it('gives the same store, byte for byte, with 2 worker threads', async () => {
    const out = path.join(tmp, 'workers');
    const s = await extractFeatures(items, { model: MODEL, layers: 'all' }, out, { workers: 2 });
    expect(s).toMatchObject({ ok: 24, complete: true });
    expect(bytes(out)).toEqual(bytes(reference));
  });

  it('a model that cannot be read is a typed error naming it', async () => {
    await expect(extractFeatures(items, { model: path.join(tmp, 'no-such-model') }, path.join(tmp, 'x'))).rejects.toThrow(/no-such-model/);
  });
});
