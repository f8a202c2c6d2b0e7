/**
 * `wavprobe.detect` in Chromium against `wavprobe detect --json` in Node: the bundled demo model, a head trained
 * on digits-spoof, three demo files (and a FLAC and an MP3 at 8 kHz, for the decoders and the resampler), with 1
 * thread and with 2. P(spoof) within 1e-5, and the same fields.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'puppeteer-core';
import { useBackend } from '../../lib/backend';
import { runCli } from '../helpers/cli';
import { FIXTURES } from '../helpers/fixtures';
import { describeWith } from '../helpers/system';
import { Session, chromium, demoModels, openApp, startSession } from './chromium';

const ROOT = path.join(__dirname, '..', '..');
const FILES = [
  ...['0000.wav', '0001.wav', '0002.wav'].map((f) => path.join(ROOT, 'data', 'digits-spoof', 'eval', f)),
  path.join(FIXTURES, 'audio', 'digit-8k.flac'),
  path.join(FIXTURES, 'audio', 'digit-8k.mp3'),
];

describeWith(chromium, 'wavprobe.detect in Chromium = wavprobe detect --json', () => {
  let tmp: string;
  let session: Session;
  let page: Page;
  const errors: string[] = [];
  const cli = new Map<string, Record<string, unknown>>();
  let demo: { model: string; head: string };

  beforeAll(async () => {
    await useBackend('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-browser-detect-'));
    demo = await demoModels(tmp);
    const r = await runCli(['detect', '--json', '--model', demo.model, '--head', demo.head, ...FILES]);
    expect(r.exitCode).toBe(0);
    for (const line of r.stdout.trim().split('\n')) {
      const j = JSON.parse(line);
      cli.set(j.file, j);
    }
    session = await startSession(tmp);
    page = await openApp(session, errors);
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe.each([1, 2])('%i thread(s)', (threads) => {
    it.each(FILES.map((f) => [path.basename(f), f]))('%s', async (name, file) => {
      const audio = [...fs.readFileSync(file)];
      const got = await page.evaluate(
        (a, n, t) =>
          (globalThis as any).wavprobe.detect({
            model: '/models/demo',
            head: '/models/head.json',
            audio: new Uint8Array(a).buffer,
            name: n,
            threads: t,
          }),
        audio,
        file,
        threads,
      );
      const want = cli.get(file)!;
      expect(want.ok).toBe(true);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      expect(Math.abs(got.p_spoof - (want.p_spoof as number))).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(got.llr - (want.llr as number))).toBeLessThanOrEqual(1e-4);
      expect({ ...got, p_spoof: 0, llr: 0, logit: 0, reliability: 0 }).toEqual({ ...want, p_spoof: 0, llr: 0, logit: 0, reliability: 0 });
    });
  });

  it('gives the frame timeline of `detect --timeline --json` (issue 13): the same frames, c_t within 1e-4', async () => {
    const file = FILES[0];
    const want = JSON.parse((await runCli(['detect', '--json', '--timeline', '--model', demo.model, '--head', demo.head, file])).stdout);
    const got = await page.evaluate(
      (a) =>
        (globalThis as any).wavprobe.detect({ model: '/models/demo', head: '/models/head.json', audio: new Uint8Array(a).buffer, timeline: true }),
      [...fs.readFileSync(file)],
    );
    expect(got.timeline.length).toBe(want.timeline.length);
    expect(got.timeline.map((f: any) => [f.window, f.start_s, f.end_s])).toEqual(want.timeline.map((f: any) => [f.window, f.start_s, f.end_s]));
    const err = Math.max(...got.timeline.map((f: any, i: number) => Math.abs(f.logit - want.timeline[i].logit)));
    expect(err).toBeLessThanOrEqual(1e-4);
    expect(got.threshold_logit).toBeCloseTo(want.threshold_logit, 9);
    expect(Math.abs(got.p_spoof - want.p_spoof)).toBeLessThanOrEqual(1e-5);
  });

  it('gives the numbers of `inspect --json --input` (issue 13): CKA within 1e-5, layer statistics within 1e-4; attention rows sum to 1', async () => {
    const file = FILES[1];
    const want = JSON.parse((await runCli(['inspect', '--json', '--model', demo.model, '--input', file])).stdout);
    const got = await page.evaluate(
      async (a) => {
        const r = await (globalThis as any).wavprobe.inspect({ model: '/models/demo', audio: new Uint8Array(a).buffer });
        // Each attention row (a query frame's weights over the keys) is a softmax: its sum, per layer, head and row.
        const rowSums = r.attention.map((m: Float32Array) =>
          Array.from({ length: m.length / r.T }, (_, q) => m.subarray(q * r.T, (q + 1) * r.T).reduce((x, y) => x + y, 0)),
        );
        return { layers: r.layers, layer_similarity: r.layer_similarity, T: r.T, heads: r.heads, maps: r.attention.length, rowSums };
      },
      [...fs.readFileSync(file)],
    );
    const sim: number[][] = want.layer_similarity;
    expect(got.layer_similarity.length).toBe(sim.length);
    const ckaErr = Math.max(...sim.flatMap((row, i) => row.map((v, j) => Math.abs(v - got.layer_similarity[i][j]))));
    expect(ckaErr).toBeLessThanOrEqual(1e-5);
    got.layers.forEach((l: any, i: number) => {
      const w = want.layers[i];
      expect(l.layer).toBe(w.layer);
      for (const k of ['mean', 'std', 'frameNorm']) expect(Math.abs(l[k] - w[k])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(w[k])));
      (w.attentionEntropy ?? []).forEach((e: number, h: number) => expect(Math.abs(l.attentionEntropy[h] - e)).toBeLessThanOrEqual(1e-4));
    });
    expect(got.maps).toBe(sim.length - 1);
    expect(Math.max(...got.rowSums.flat().map((v: number) => Math.abs(v - 1)))).toBeLessThanOrEqual(1e-5);
  });

  it('answers a file that is not audio as the CLI does: ok false, with the reason', async () => {
    const got = await page.evaluate(() =>
      (globalThis as any).wavprobe.detect({
        model: '/models/demo',
        head: '/models/head.json',
        audio: new TextEncoder().encode('not audio at all').buffer,
        name: 'notes.txt',
      }),
    );
    expect(got).toEqual({ file: 'notes.txt', ok: false, error: expect.stringMatching(/not a WAV, FLAC or MP3|unknown|format/i) });
  });

  it('raised no page error', () => expect(errors).toEqual([]));
});
