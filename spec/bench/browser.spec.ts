import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchStore, cutConfig } from '../../lib/bench/browser';
import { PRESETS } from '../../lib/bench/presets';
import { ModelConfig } from '../../lib/weights/config';
import { readStore } from '../../lib/weights/store';
import { runCli } from '../helpers/cli';

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
