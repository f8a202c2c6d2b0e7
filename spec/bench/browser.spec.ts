import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchBrowser, benchStore, cutConfig } from '../../lib/bench/browser';
import { PRESETS } from '../../lib/bench/presets';
import { ModelConfig } from '../../lib/weights/config';
import { readStore } from '../../lib/weights/store';
import { chromium } from '../browser/chromium';
import { runCli } from '../helpers/cli';
import { describeWith } from '../helpers/system';

const TINY: ModelConfig = {
  ...PRESETS['wav2vec2-base'],
  hiddenSize: 32,
  numHiddenLayers: 3,
  numAttentionHeads: 4,
  intermediateSize: 64,
  convDim: Array(7).fill(16),
  numConvPosEmbeddings: 16,
  numConvPosEmbeddingGroups: 4,
};

describe('bench browser (no browser needed: the store it serves, its arguments)', () => {
  let models: string;
  beforeEach(() => (models = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-bench-browser-spec-'))));
  afterEach(() => fs.rmSync(models, { recursive: true, force: true }));

  it('serves the cut model: a store that reads back with only the layers up to the cut, written once', () => {
    expect(cutConfig('xlsr-300m', 7)).toEqual({ ...PRESETS['xlsr-300m'], numHiddenLayers: 7 });
    const name = benchStore(models, TINY, 2);
    const store = readStore(path.join(models, name), { verify: true });
    expect(store.config).toEqual({ ...TINY, numHiddenLayers: 2 });
    expect([...store.weights.keys()].filter((k) => k.startsWith('encoder.layers.2.'))).toEqual([]);
    expect([...store.weights.keys()].some((k) => k.startsWith('encoder.layers.1.'))).toBe(true);
    const mtime = fs.statSync(path.join(models, name, 'wavprobe.json')).mtimeMs;
    expect(benchStore(models, TINY, 2)).toBe(name); // reused, not rewritten
    expect(fs.statSync(path.join(models, name, 'wavprobe.json')).mtimeMs).toBe(mtime);
    expect(benchStore(models, TINY)).not.toBe(name); // another cut, another store
  });

  it('refuses a layer past the last in one line, before starting anything', async () => {
    const layers = await runCli(['bench', 'browser', '--arch', 'wav2vec2-base', '--layers', '0..13', '--json']);
    expect(layers.exitCode).toBe(1);
    expect(layers.stderr.trim().split('\n')).toHaveLength(1);
    expect(layers.stderr).toMatch(/^wavprobe bench browser: .*13/);
  });
});

describeWith(chromium, 'bench browser in Chromium (the JSON of bench forward plus the browser; no timing assertions)', () => {
  let models: string;
  beforeAll(() => (models = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-bench-browser-spec-'))));
  afterAll(() => fs.rmSync(models, { recursive: true, force: true }));

  it.each([1, 2])(
    'times a tiny model in the served page on %i thread(s) and reports every field',
    async (threads) => {
      const r = await benchBrowser({ arch: TINY, seconds: 0.5, runs: 2, threads, models });
      expect(r).toMatchObject({ arch: 'wav2vec2', backend: 'wasm', threads, audio_s: 0.5, layers: 3, runs: 2, cross_origin_isolated: true });
      expect(r.browser).toMatch(/Chrome\/\d+/);
      for (const k of ['median_s', 'min_s', 'rtf', 'load_s'] as const) expect(r[k]).toBeGreaterThan(0);
      expect(r.gflop).toEqual(expect.any(Number)); // 0.0 at this size, to one decimal
      expect(r.gflops).toEqual(expect.any(Number));
      expect(r.min_s).toBeLessThanOrEqual(r.median_s);
      expect(r.machine.cores).toBeGreaterThan(0);
    },
    180_000,
  );
});
