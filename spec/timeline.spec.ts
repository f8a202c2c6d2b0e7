/**
 * detect --timeline: the frames' contributions c_t average to the reported logit (the head is linear in the mean),
 * for one window, many windows (the end-aligned last one included), a standardised Platt head and an LFCC head;
 * detect --plot writes a PNG and an SVG.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadAudio } from '../lib/audio';
import { useBackend } from '../lib/backend';
import { readDataset } from '../lib/data';
import { Detection, createDetector } from '../lib/detector';
import { extractFeatures } from '../lib/features/extract';
import { Head, calibrate, headPrior, readHead, trainHead, writeHead } from '../lib/probe/head';
import { runCli } from './helpers/cli';

const ROOT = path.join(__dirname, '..');
const DEMO_MODEL = path.join(ROOT, 'weights', 'demo');
const WAV = path.join(ROOT, 'data', 'digits-spoof', 'eval', '0000.wav');
let tmp: string;
beforeAll(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-timeline-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function headFor(model: string, layer: number, opts: Parameters<typeof trainHead>[2] = {}): Promise<Head> {
  const items = readDataset(`in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'train')}`).slice(0, 30);
  const store = path.join(tmp, `store-${path.basename(model)}-${layer}`);
  if (!fs.existsSync(store)) await extractFeatures(items, { model, layers: String(layer) }, store);
  return trainHead(store, layer, { C: 1, ...opts });
}

/** The duration-weighted mean of the timeline, and its relative distance to the logit. */
function identityError(r: Detection): number {
  let sum = 0;
  let weight = 0;
  for (const f of r.timeline!) {
    sum += f.logit * (f.end_s - f.start_s);
    weight += f.end_s - f.start_s;
  }
  return Math.abs(sum / weight - r.logit) / Math.abs(r.logit);
}

async function detect(head: Head, windowS?: number): Promise<Detection> {
  const detector = createDetector({ model: DEMO_MODEL, head, windowS, timeline: true });
  try {
    const r = await detector.detectFile(WAV);
    if (!r.ok) throw new Error(r.error);
    return r;
  } finally {
    detector.dispose();
  }
}

describe('detect --timeline: mean of c_t = logit', () => {
  let plain: Head;
  beforeAll(async () => {
    plain = await headFor(DEMO_MODEL, 3);
  });

  it('a short file: one window, frames every 20 ms spanning the 25 ms receptive field', async () => {
    const r = await detect(plain);
    expect(r.windows).toBe(1);
    const n = (await loadAudio(WAV)).samples.length;
    expect(r.timeline!.length).toBe(Math.floor((n - 400) / 320) + 1);
    expect(r.timeline![1]).toMatchObject({ window: 0, start_s: 0.02, end_s: 0.045 });
    expect(identityError(r)).toBeLessThan(1e-6);
    // The same head without a timeline gives the same logit up to the device mean's float32 rounding.
    const detector = createDetector({ model: DEMO_MODEL, head: plain });
    const base = (await detector.detectFile(WAV)) as Detection;
    detector.dispose();
    expect(Math.abs(base.logit - r.logit)).toBeLessThan(1e-4 * Math.max(1, Math.abs(r.logit)));
  });

  it("many windows: every window's frames listed, the end-aligned last one in full", async () => {
    const r = await detect(plain, 0.1);
    const n = (await loadAudio(WAV)).samples.length;
    expect(r.windows).toBe(Math.ceil(n / 1600));
    expect(r.windows).toBeGreaterThan(2);
    const last = r.timeline!.filter((f) => f.window === r.windows - 1);
    expect(last[0].start_s).toBeCloseTo((n - 1600) / 16000, 12); // aligned to the end, overlapping its neighbour
    expect(last.length).toBe(Math.floor((1600 - 400) / 320) + 1);
    expect(identityError(r)).toBeLessThan(1e-6);
  });

  it('a standardised Platt head: the identity holds, and the threshold on the c_t scale is where P(spoof) = ½', async () => {
    const head = await headFor(DEMO_MODEL, 3, { standardize: true, calibrateOn: 0.3, calibration: 'platt' });
    expect(head.standardize).not.toBeNull();
    const r = await detect(head, 0.1);
    expect(identityError(r)).toBeLessThan(1e-6);
    expect(calibrate(head, r.threshold_logit!)).toBeCloseTo(0.5, 12);
    expect(r.spoof_above).toBe(head.platt!.a > 0);
  });

  it('an LFCC head: LFCC frames (20 ms every 10 ms)', async () => {
    const r = await detect(await headFor('lfcc', 0), 0.1);
    expect(r.timeline![1]).toMatchObject({ window: 0, start_s: 0.01, end_s: 0.03 });
    expect(identityError(r)).toBeLessThan(1e-6);
  });
});

describe('detect --timeline / --plot (CLI)', () => {
  let headFile: string;
  beforeAll(async () => {
    headFile = path.join(tmp, 'head.json');
    writeHead(headFile, await headFor(DEMO_MODEL, 3, { calibrateOn: 0.3 }));
  });

  it('--json adds the timeline; --plot writes a PNG and an SVG', async () => {
    const out = path.join(tmp, 'plots', 'clip.png');
    fs.mkdirSync(path.dirname(out));
    const r = await runCli(['detect', '--model', DEMO_MODEL, '--head', headFile, '--json', '--timeline', '--plot', out, WAV]);
    expect(r.exitCode).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(identityError(d)).toBeLessThan(1e-6);
    const png = fs.readFileSync(out);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBeGreaterThan(600);
    const svg = fs.readFileSync(path.join(tmp, 'plots', 'clip.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[^>]*>/);
    expect(svg).toContain('decision threshold');
  });

  it('with a target prior, threshold_logit is where the re-targeted P(spoof) meets the Bayes threshold 1/11', async () => {
    const r = await runCli(['detect', '--model', DEMO_MODEL, '--head', headFile, '--json', '--timeline', '--target-prior-spoof', '0.37', WAV]);
    const d = JSON.parse(r.stdout);
    const head = readHead(headFile);
    const odds = (p: number) => p / (1 - p);
    const shifted = odds(calibrate(head, d.threshold_logit)) * (odds(0.37) / odds(headPrior(head)));
    expect(shifted / (1 + shifted)).toBeCloseTo(1 / 11, 12);
    expect(d.decision).toBe(d.logit > d.threshold_logit ? 'spoof' : 'bona-fide');
  });

  it('text output: a line of c_t per window; --plot takes one file', async () => {
    const r = await runCli(['detect', '--model', DEMO_MODEL, '--head', headFile, '--timeline', '--window-s', '0.25', WAV]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /\n {2}timeline: c_t per frame, mean = logit -?\d+\.\d{4}; threshold -?\d+\.\d{3} \(spoof at or above\)\n {2}window 0 from 0\.000 s every 20 ms: /,
    );
    const two = await runCli(['detect', '--model', DEMO_MODEL, '--head', headFile, '--plot', path.join(tmp, 'x.png'), WAV, WAV]);
    expect([two.exitCode, two.stderr]).toEqual([1, 'wavprobe detect: --plot draws one file, got 2\n']);
  });
});
