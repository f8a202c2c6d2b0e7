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
import { scoreHead, trainHead } from '../lib/probe/head';

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
  it('scores long audio as the frame-weighted mean of its windows\' pooled features', async () => {
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
    const { probs } = scoreHead(head, sum.map((s) => s / frames), 1, sum.length);
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
