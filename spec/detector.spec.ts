/** createDetector: long audio in windows, pooled features averaged by frame count, then the head. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useBackend } from '../lib/backend';
import { loadAudio } from '../lib/audio';
import { readDataset } from '../lib/data';
import { createDetector } from '../lib/detector';
import { extractFeatures } from '../lib/features/extract';
import { lfccFrontEnd, openFrontEnd } from '../lib/features/frontends';
import { confidence } from '../lib/metrics/reliability';
import { readHead, scoreHead, trainHead, writeHead } from '../lib/probe/head';
import { readSafetensors, writeSafetensors } from '../lib/weights/safetensors';
import { runCli } from './helpers/cli';
import { GOLDEN } from './helpers/fixtures';

const ROOT = path.join(__dirname, '..');
const DEMO_MODEL = path.join(ROOT, 'weights', 'demo');
let tmp: string;
beforeAll(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-detector-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function headFor(model: string, layer: number) {
  const items = readDataset(`in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'train')}`).slice(0, 30);
  const store = path.join(tmp, `store-${path.basename(model)}`);
  await extractFeatures(items, { model, layers: String(layer) }, store);
  return trainHead(store, layer, { C: 1 });
}

async function longSignal(): Promise<Float32Array> {
  const dev = readDataset(`in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'dev')}`).slice(0, 4);
  const parts = await Promise.all(dev.map(async (it) => (await loadAudio(it.path)).samples));
  const x = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    x.set(p, off);
    off += p.length;
  }
  return x;
}

describe('createDetector', () => {
  it("scores long audio as the frame-weighted mean of its windows' pooled features", async () => {
    const head = await headFor(DEMO_MODEL, 3);
    const x = await longSignal();
    const detector = createDetector({ model: DEMO_MODEL, head, windowS: 0.5 });
    const r = await detector.detectSamples(x, 'long');
    detector.dispose();
    const expectedWindows = Math.ceil(x.length / 8000);
    expect(r.windows).toBe(expectedWindows);
    // The same statistic by hand: pool each window with the layer-3 front-end, weight by frames, apply the head.
    const fe = openFrontEnd({ model: DEMO_MODEL, layers: '3' });
    const sum = new Float64Array(head.weights.length);
    let frames = 0;
    for (let w = 0; w < expectedWindows; w++) {
      const start = Math.min(w * 8000, x.length - 8000);
      const p = await fe.pool(x.subarray(start, start + 8000));
      p.vectors[0].forEach((v, j) => (sum[j] += v * p.frames));
      frames += p.frames;
    }
    fe.dispose();
    const { probs } = scoreHead(
      head,
      sum.map((s) => s / frames),
      1,
      sum.length,
    );
    expect(r.p_spoof).toBeCloseTo(probs[0], 12);
  });

  it('a file shorter than one window is one window, scored like its whole-file features', async () => {
    const head = await headFor('lfcc', 0);
    const file = path.join(ROOT, 'data', 'digits-spoof', 'eval', '0000.wav');
    const detector = createDetector({ model: 'unused for an LFCC head', head });
    const r = await detector.detectFile(file);
    detector.dispose();
    if (!r.ok) throw new Error(r.error);
    expect(r.windows).toBe(1);
    const pooled = await lfccFrontEnd().pool((await loadAudio(file)).samples);
    expect(r.p_spoof).toBeCloseTo(scoreHead(head, pooled.vectors[0], 1, 60).probs[0], 12);
    expect(r.decision).toBe(r.p_spoof >= 0.5 ? 'spoof' : 'bona-fide');
  });
});

describe('detect --target-prior-spoof: prior shift', () => {
  const WAV = path.join(ROOT, 'data', 'digits-spoof', 'eval', '0000.wav');
  let headFile: string;
  beforeAll(async () => {
    const head = await headFor('lfcc', 0);
    // A head whose P(spoof) is a posterior under prior 0.9, like one trained on ASVspoof 2019 LA.
    headFile = path.join(tmp, 'lfcc-head.json');
    writeHead(headFile, { ...head, training: { ...head.training, prior_spoof: 0.9, class_weight: null } });
  });
  const detect = async (...extra: string[]) => {
    const r = await runCli(['detect', '--model', 'unused', '--head', headFile, '--json', ...extra, WAV]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    return JSON.parse(r.stdout);
  };

  it("moves the posterior from the head's prior to the target by Bayes' rule; the Bayes threshold decides", async () => {
    const plain = await detect();
    const p = plain.p_spoof;
    expect(plain.prior_spoof).toBe(0.9);
    expect(plain.llr).toBeCloseTo(Math.log((1 - p) / p) - Math.log(0.1 / 0.9), 12);
    // Odds of spoof × (0.37/0.63)/(0.9/0.1); with Cmiss 1, Cfa 10 decide spoof when P′(spoof) > 1/11.
    const odds = (p / (1 - p)) * (0.37 / 0.63 / 9);
    const shifted = await detect('--target-prior-spoof', '0.37');
    expect(shifted).toMatchObject({ ok: true, prior_spoof: 0.37, llr: plain.llr, decision: odds / (1 + odds) > 1 / 11 ? 'spoof' : 'bona-fide' });
    expect(shifted.p_spoof).toBeCloseTo(odds / (1 + odds), 12);
    expect(shifted.reliability).toBeCloseTo(confidence(shifted.p_spoof), 12);
    // Equal costs: the threshold is P′ = ½.
    const equal = await detect('--target-prior-spoof', '0.37', '--cost-fa', '1');
    expect(equal.decision).toBe(odds > 1 ? 'spoof' : 'bona-fide');
  });

  it('a threshold with a target prior, or costs without one, are refused in one line', async () => {
    const both = await runCli(['detect', '--model', 'unused', '--head', headFile, '--threshold', '0.5', '--target-prior-spoof', '0.3', WAV]);
    expect([both.exitCode, both.stderr]).toEqual([
      1,
      'wavprobe detect: give a threshold or a target spoof prior (which decides by its costs), not both\n',
    ]);
    const costs = await runCli(['detect', '--model', 'unused', '--head', headFile, '--cost-fa', '2', WAV]);
    expect([costs.exitCode, costs.stderr]).toEqual([1, 'wavprobe detect: costs decide at a target spoof prior: give one too\n']);
    const prior = await runCli(['detect', '--model', 'unused', '--head', headFile, '--target-prior-spoof', '0', WAV]);
    expect([prior.exitCode, prior.stderr]).toEqual([
      1,
      'wavprobe detect: the target spoof prior must be a probability strictly between 0 and 1, got 0\n',
    ]);
  });
});

describe('a head that does not fit the model is refused (hardening classes 2 and 3)', () => {
  const GOLDEN_W2V = path.join(GOLDEN, 'wav2vec2_base_tiny');
  const GOLDEN_HUBERT = path.join(GOLDEN, 'hubert_base_tiny');
  let headFile: string;
  beforeAll(async () => {
    headFile = path.join(tmp, 'w2v-tiny-head.json');
    writeHead(headFile, await headFor(GOLDEN_W2V, 2));
  });
  const detect = (model: string, ...extra: string[]) => runCli(['detect', '--model', model, '--head', headFile, '--json', ...extra, WAV]);
  const WAV = path.join(ROOT, 'data', 'digits-spoof', 'eval', '0000.wav');

  it('scores with the model it was trained on', async () => {
    const r = await detect(GOLDEN_W2V);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, file: WAV });
  });

  it('another model of the same size: refused naming both, unless --allow-model-mismatch', async () => {
    const r = await detect(GOLDEN_HUBERT);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^wavprobe detect: ${headFile}: the head was trained on features of wav2vec2_base_tiny \\(sha256:[0-9a-f]{12}…\\), these come from hubert_base_tiny \\(sha256:[0-9a-f]{12}…\\); --allow-model-mismatch overrides this if they are the same model\\n$`,
      ),
    );
    expect(r.stdout).toBe('');
    const allowed = await detect(GOLDEN_HUBERT, '--allow-model-mismatch');
    expect([allowed.exitCode, JSON.parse(allowed.stdout).ok]).toEqual([0, true]);
  });

  it('a model of another width (a 32-weight head on the 192-dimensional demo model): refused even with --allow-model-mismatch', async () => {
    // Once it scored the first 32 of the 192 features, with ok: true.
    const r = await detect(DEMO_MODEL, '--allow-model-mismatch');
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([
      1,
      '',
      `wavprobe detect: ${headFile}: the head has 32 weights, ${DEMO_MODEL} gives 192-dimensional features\n`,
    ]);
  });

  it('a layer the model does not have: refused', async () => {
    const deep = path.join(tmp, 'deep-head.json');
    writeHead(deep, { ...readHead(headFile), layer: 5 });
    const r = await runCli(['detect', '--model', GOLDEN_W2V, '--head', deep, WAV]);
    expect([r.exitCode, r.stderr]).toEqual([1, `wavprobe detect: ${deep}: the head is for layer 5, ${GOLDEN_W2V} has layers 0..2\n`]);
  });

  it('a model whose activations overflow: each file is an error (ok: false), never a confident score', async () => {
    // Every feature-projection weight 3e38: finite, but their sums overflow float32 to Infinity.
    const hot = path.join(tmp, 'overflowing');
    fs.mkdirSync(hot);
    for (const f of ['config.json', 'preprocessor_config.json']) fs.copyFileSync(path.join(GOLDEN_W2V, f), path.join(hot, f));
    const weights = readSafetensors(path.join(GOLDEN_W2V, 'model.safetensors'));
    const proj = [...weights.keys()].find((k) => k.endsWith('feature_projection.projection.weight'))!;
    weights.get(proj)!.data.fill(3e38);
    writeSafetensors(path.join(hot, 'model.safetensors'), weights);
    const r = await runCli(['detect', '--model', hot, '--head', headFile, '--allow-model-mismatch', '--json', WAV, WAV]);
    expect(r.exitCode).toBe(1);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(
      [WAV, WAV].map((file) => ({
        file,
        ok: false,
        error: expect.stringMatching(/^the model produced a non-finite feature \((NaN|-?Infinity) at layer 2, dimension \d+\)$/),
      })),
    );
    expect(r.stderr).toBe('wavprobe detect: 2 of 2 files could not be read\n');
  });
});
