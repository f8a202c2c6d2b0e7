/**
 * Feature sets (issue 15): `--layers 7`, `--layers 5,7` (concatenated), `--layers mean:0-24` (averaged), `--pool
 * mean+std`. The store path (train, eval) and the audio path (detect) build the same vector: for each kind, detect on
 * a file equals eval of the same head on that file's extracted features. The layouts are checked against arrays
 * put together here from the store's .npy files.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useBackend } from '../../lib/backend';
import { loadAudio } from '../../lib/audio';
import { windows } from '../../lib/audio/windows';
import { readCsv } from '../../lib/data/csv';
import { createDetector } from '../../lib/detector';
import { readDataset } from '../../lib/data';
import { extractFeatures } from '../../lib/features/extract';
import { openFrontEnd } from '../../lib/features/frontends';
import { readNpy } from '../../lib/features/npy';
import { layerFile, stdFile } from '../../lib/features/store';
import { FeatureSet, featureSetName, parseFeatureSet, readFeatures } from '../../lib/probe/feature-set';
import { readHead, scoreStore, writeHead } from '../../lib/probe/head';
import { runCli } from '../helpers/cli';
import { GOLDEN } from '../helpers/fixtures';

const ROOT = path.join(__dirname, '..', '..');
const MODEL = path.join(GOLDEN, 'wav2vec2_base_tiny'); // layers 0..2, 32 dimensions
const H = 32;
const dataset = (split: string, n: number) => readDataset(`in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', split)}`).slice(0, n);

let tmp: string;
let store: string; // mean,std of layers 0..2
let evalStore: string;
let meanOnly: string; // mean of layers 0..2
beforeAll(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-feature-sets-'));
  store = path.join(tmp, 'train');
  evalStore = path.join(tmp, 'eval');
  meanOnly = path.join(tmp, 'mean-only');
  await extractFeatures(dataset('train', 24), { model: MODEL, layers: 'all', pooling: 'mean,std' }, store);
  await extractFeatures(dataset('dev', 10), { model: MODEL, layers: 'all', pooling: 'mean,std' }, evalStore);
  await extractFeatures(dataset('dev', 10), { model: MODEL, layers: 'all' }, meanOnly);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('parseFeatureSet and featureSetName', () => {
  it('parse a layer, layers to concatenate and layers to average, and name them back', () => {
    expect(parseFeatureSet('7')).toEqual({ layers: [7], combine: 'concat', pool: 'mean' });
    expect(parseFeatureSet('7,5', 'mean+std')).toEqual({ layers: [7, 5], combine: 'concat', pool: 'mean+std' });
    expect(parseFeatureSet('mean:0-3')).toEqual({ layers: [0, 1, 2, 3], combine: 'mean', pool: 'mean' });
    expect(parseFeatureSet('mean:1,3')).toEqual({ layers: [1, 3], combine: 'mean', pool: 'mean' });
    expect(parseFeatureSet('mean:4')).toEqual({ layers: [4], combine: 'concat', pool: 'mean' });
    for (const [l, p] of [
      ['7', 'mean'],
      ['5,7', 'mean+std'],
      ['mean:0-24', 'mean'],
      ['mean:1,3', 'mean+std'],
    ]) {
      const fs1 = parseFeatureSet(l, p);
      expect(featureSetName(fs1)).toBe(p === 'mean' ? l : `${l} ${p}`);
    }
  });

  it('refuse anything else in one line', () => {
    expect(() => parseFeatureSet('5-7')).toThrow(
      '--layers must be a layer (7), layers to concatenate (5,7) or layers to average (mean:0-24, mean:1,3,5), got "5-7"',
    );
    expect(() => parseFeatureSet('mean:3-1')).toThrow('--layers "mean:3-1": a range a-b needs a < b');
    expect(() => parseFeatureSet('5,5')).toThrow('--layers "5,5" names a layer twice');
    expect(() => parseFeatureSet('5', 'std')).toThrow('--pool must be mean or mean+std, got "std"');
  });
});

describe('readFeatures', () => {
  const npy = (file: string) => readNpy(file).data;
  const mean = (k: number) => npy(layerFile(store, k));
  const std = (k: number) => npy(stdFile(store, k));
  const n = 24;
  /** Row i of a layout put together here: blocks of H values per row, each block from its own array. */
  const byHand = (blocks: ((i: number, j: number) => number)[]) =>
    Float64Array.from({ length: n * blocks.length * H }, (_, x) => {
      const i = Math.floor(x / (blocks.length * H));
      const b = Math.floor((x % (blocks.length * H)) / H);
      return blocks[b](i, x % H);
    });
  const at = (a: Float32Array) => (i: number, j: number) => a[i * H + j];

  it("gives one layer's mean as the store's own array", () => {
    const { X } = readFeatures(store, parseFeatureSet('2'));
    expect(X).toMatchObject({ n, d: H });
    expect(X.data).toBeInstanceOf(Float32Array);
    expect(Array.from(X.data)).toEqual(Array.from(mean(2)));
  });

  it.each([
    ['2,0', 'mean', () => [at(mean(2)), at(mean(0))]],
    ['mean:0-2', 'mean', () => [(i: number, j: number) => (mean(0)[i * H + j] + mean(1)[i * H + j] + mean(2)[i * H + j]) / 3]],
    ['1', 'mean+std', () => [at(mean(1)), at(std(1))]],
    ['2,0', 'mean+std', () => [at(mean(2)), at(std(2)), at(mean(0)), at(std(0))]],
    [
      'mean:0,2',
      'mean+std',
      () => [
        (i: number, j: number) => (mean(0)[i * H + j] + mean(2)[i * H + j]) / 2,
        (i: number, j: number) => (std(0)[i * H + j] + std(2)[i * H + j]) / 2,
      ],
    ],
  ])('lays out --layers %s --pool %s as the layers and statistics in order', (layers, pool, blocks) => {
    const { X } = readFeatures(store, parseFeatureSet(layers, pool));
    const expected = byHand(blocks());
    expect(X).toMatchObject({ n, d: expected.length / n });
    for (let x = 0; x < expected.length; x++) expect(Math.abs(X.data[x] - expected[x])).toBeLessThan(1e-12);
  });

  it('refuses a set the store cannot provide, naming the file or folder', () => {
    expect(() => readFeatures(meanOnly, parseFeatureSet('1', 'mean+std'))).toThrow(
      `${stdFile(meanOnly, 1)}: no standard deviations in the feature store (extract with --pool mean,std)`,
    );
    expect(() => readFeatures(meanOnly, parseFeatureSet('0,3'))).toThrow(`${meanOnly}: layer 3 is not in the feature store (it has 0…2)`);
  });
});

const KINDS: [string, string, string][] = [
  ['one layer', '2', 'mean'],
  ['layers concatenated', '0,2', 'mean'],
  ['layers averaged', 'mean:0-2', 'mean'],
  ['one layer, mean+std', '1', 'mean+std'],
  ['layers averaged, mean+std', 'mean:0-2', 'mean+std'],
];

describe.each(KINDS)('%s (--layers %s --pool %s)', (_kind, layers, pool) => {
  const set: FeatureSet = parseFeatureSet(layers, pool);
  let head: string;

  it('train records the feature set in the head (version 1 only for one layer mean)', async () => {
    head = path.join(tmp, `head-${layers}-${pool}.json`.replace(/[:,]/g, '_'));
    const args = [
      'train',
      '--features',
      store,
      '--layers',
      layers,
      '--pool',
      pool,
      '--C',
      '1',
      '--standardize',
      '--calibrate-on',
      '0.25',
      '--out',
      head,
    ];
    const r = await runCli(args);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const h = readHead(head);
    expect(h.features).toEqual(set);
    expect(h.version).toBe(set.layers.length === 1 && pool === 'mean' ? 1 : 2);
    expect(h.layer).toBe(Math.max(...set.layers));
    expect(h.weights.length).toBe(H * (set.combine === 'concat' ? set.layers.length : 1) * (pool === 'mean+std' ? 2 : 1));
  });

  it("detect on each file equals eval of the head on that file's extracted features (within 1e-6)", async () => {
    const out = path.join(tmp, `eval-${layers}-${pool}`.replace(/[:,]/g, '_'));
    const e = await runCli(['eval', '--head', head, '--features', evalStore, '--out', out, '--json']);
    expect(e.exitCode).toBe(0);
    const scores = readCsv(path.join(out, 'scores.csv')).rows;
    const { logits } = scoreStore(readHead(head), evalStore);
    const files = readCsv(path.join(evalStore, 'index.csv')).rows.map((r) => r.path);
    const d = await runCli(['detect', '--model', MODEL, '--head', head, '--json', ...files]);
    expect([d.exitCode, d.stderr]).toEqual([0, '']);
    const detections = d.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(detections.length).toBe(files.length);
    detections.forEach((r, i) => {
      expect(r.file).toBe(files[i]);
      expect(Math.abs(r.p_spoof - Number(scores[i].score))).toBeLessThan(1e-6);
      expect(Math.abs(r.llr - Number(scores[i].llr))).toBeLessThan(1e-6);
      expect(Math.abs(r.logit - logits[i])).toBeLessThan(1e-6);
    });
    // Not the same numbers by accident: the files score differently.
    expect(new Set(detections.map((r) => r.logit.toFixed(4))).size).toBeGreaterThan(3);
  });
});

describe('probe --pool mean+std', () => {
  it('probes every layer as mean+std: a row and a head per layer, and the layer-wise chart over them', async () => {
    const out = path.join(tmp, 'probe-std');
    const r = await runCli(['probe', '--train', store, '--eval', evalStore, '--pool', 'mean+std', '--C', '1', '--out', out, '--json']);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout).layers.map((l: { features: string }) => l.features)).toEqual(['0 mean+std', '1 mean+std', '2 mean+std']);
    expect(fs.readdirSync(path.join(out, 'heads')).sort()).toEqual([
      'features_0_mean_std.json',
      'features_1_mean_std.json',
      'features_2_mean_std.json',
    ]);
    expect(fs.readFileSync(path.join(out, 'layerwise_eval.svg'), 'utf8')).toContain('after calibration, mean+std');
  });
});

describe('detect in windows, mean+std', () => {
  it("combines the windows' stds into the std over all their frames (computed here from each window's hidden states)", async () => {
    const head = readHead(path.join(tmp, 'head-mean_0-2-mean+std.json'));
    const parts = await Promise.all(dataset('dev', 4).map(async (it) => (await loadAudio(it.path)).samples));
    const x = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    parts.reduce((off, p) => (x.set(p, off), off + p.length), 0);
    const detector = createDetector({ model: MODEL, head, windowS: 0.5 });
    const r = await detector.detectSamples(x, 'long');
    detector.dispose();
    expect(r.windows).toBe(Math.ceil(x.length / 8000));
    // Every window's frames of every layer, pooled here as one set of frames: mean and population std in float64.
    const fe = openFrontEnd({ model: MODEL, layers: 'all' });
    const frames: Float32Array[][] = [[], [], []];
    for (const w of windows(x, { windowS: 0.5, sampleRate: 16000 })) for (const k of [0, 1, 2]) frames[k].push((await fe.frames(w.samples, k)).data);
    fe.dispose();
    const stats = frames.map((ws) => {
      const all = ws.flatMap((f) => Array.from(f));
      const T = all.length / H;
      const m = Array.from({ length: H }, (_, j) => all.filter((_, i) => i % H === j).reduce((a, v) => a + v, 0) / T);
      const sd = m.map((mj, j) => Math.sqrt(all.filter((_, i) => i % H === j).reduce((a, v) => a + (v - mj) ** 2, 0) / T));
      return { m, sd };
    });
    const feat = [
      ...Array.from({ length: H }, (_, j) => stats.reduce((a, s) => a + s.m[j], 0) / 3),
      ...Array.from({ length: H }, (_, j) => stats.reduce((a, s) => a + s.sd[j], 0) / 3),
    ];
    const { mean, std } = head.standardize!;
    const logit = feat.reduce((z, v, j) => z + (head.weights[j] * (v - mean[j])) / std[j], head.bias);
    expect(Math.abs(r.logit - logit)).toBeLessThan(1e-4 * Math.max(1, Math.abs(logit)));
  });
});

describe('heads whose features cannot be built', () => {
  it('eval of a mean+std head on a store without stds: one line naming the file', async () => {
    const h = path.join(tmp, 'head-1-mean+std.json');
    const r = await runCli(['eval', '--head', h, '--features', meanOnly, '--out', path.join(tmp, 'no-std')]);
    expect([r.exitCode, r.stderr]).toEqual([
      1,
      `wavprobe eval: ${stdFile(meanOnly, 1)}: no standard deviations in the feature store (extract with --pool mean,std)\n`,
    ]);
  });

  it('detect with a head needing a layer the model lacks, or of another width: one line naming the head', async () => {
    const base = readHead(path.join(tmp, 'head-0_2-mean.json'));
    const deep = path.join(tmp, 'deep.json');
    writeHead(deep, { ...base, layer: 5, features: { ...base.features, layers: [0, 5] } });
    let r = await runCli(['detect', '--model', MODEL, '--head', deep, dataset('dev', 1)[0].path]);
    expect([r.exitCode, r.stderr]).toEqual([1, `wavprobe detect: ${deep}: the head's features 0,5 need layer 5, ${MODEL} has layers 0..2\n`]);
    const wide = path.join(tmp, 'wide.json');
    writeHead(wide, { ...base, features: { ...base.features, layers: [0, 1, 2] }, weights: new Array(3 * (H + 1)).fill(0.1), standardize: null });
    r = await runCli(['detect', '--model', MODEL, '--head', wide, dataset('dev', 1)[0].path]);
    expect([r.exitCode, r.stderr]).toEqual([
      1,
      `wavprobe detect: ${wide}: the head has ${3 * (H + 1)} weights, ${MODEL} gives ${3 * H} values for features 0,1,2\n`,
    ]);
  });

  it('explore --heads refuses a head on several layers (it shows heads beside their layer)', async () => {
    const r = await runCli(['explore', '--features', store, '--heads', path.join(tmp, 'head-0_2-mean.json'), '--out', path.join(tmp, 'explore')]);
    expect([r.exitCode, r.stderr]).toEqual([1, "wavprobe explore: a head is shown beside its layer; this one's features are 0,2\n"]);
  });

  it('detect --timeline needs one layer mean', async () => {
    const r = await runCli(['detect', '--model', MODEL, '--head', path.join(tmp, 'head-0_2-mean.json'), '--timeline', dataset('dev', 1)[0].path]);
    expect([r.exitCode, r.stderr]).toEqual([1, "wavprobe detect: the timeline needs a head on one layer's mean; this head's features are 0,2\n"]);
  });

  it('a head file written before feature sets (no "features") is one layer mean, and a bad "features" is refused', async () => {
    const old: Record<string, unknown> = { ...readHead(path.join(tmp, 'head-2-mean.json')) };
    delete old.features;
    const oldFile = path.join(tmp, 'old.json');
    fs.writeFileSync(oldFile, JSON.stringify(old));
    expect(readHead(oldFile).features).toEqual({ layers: [2], combine: 'concat', pool: 'mean' });
    expect(Array.from(scoreStore(readHead(oldFile), evalStore).probs)).toEqual(
      Array.from(scoreStore(readHead(path.join(tmp, 'head-2-mean.json')), evalStore).probs),
    );
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(
      bad,
      JSON.stringify({ ...readHead(path.join(tmp, 'head-0_2-mean.json')), features: { layers: [0, 2], combine: 'max', pool: 'mean' } }),
    );
    expect(() => readHead(bad)).toThrow(`${bad}: invalid head file: "features": "combine" must be "concat" or "mean"`);
  });
});
