/**
 * The page itself in Chromium: a detection through the pickers and the file input (the screenshot the README shows
 * is written here, to out/browser.png), and bad input shown in the page without a page error: a file that is not
 * audio, a store whose shard is corrupt, a head trained on another model.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { useBackend } from '../../lib/backend';
import { describeWith } from '../helpers/system';
import { appDir } from '../../lib/serve';
import { Session, chromium, demoModels, openApp, startSession } from './chromium';

const ROOT = path.join(__dirname, '..', '..');
export const SCREENSHOT = path.join(ROOT, 'out', 'browser.png');
const CLIP = path.join(ROOT, 'data', 'digits-spoof', 'eval', '0003.wav');

describeWith(chromium, 'the page in Chromium', () => {
  let tmp: string;
  let session: Session;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await useBackend('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-browser-page-'));
    const { model, head } = await demoModels(tmp);
    // A corrupt copy of the store: one byte of its shard flipped (same size, so only the sha256 can tell).
    const corrupt = path.join(tmp, 'corrupt');
    fs.cpSync(model, corrupt, { recursive: true });
    const shard = path.join(corrupt, 'group1-shard1of1.bin');
    const bytes = fs.readFileSync(shard);
    bytes[1000] ^= 0xff;
    fs.writeFileSync(shard, bytes);
    // A head that names another model.
    const other = JSON.parse(fs.readFileSync(head, 'utf8'));
    fs.writeFileSync(
      path.join(tmp, 'other-model-head.json'),
      JSON.stringify({ ...other, model: 'another/model', model_fingerprint: `sha256:${'0'.repeat(64)}` }),
    );
    // A fake microphone (a beep), allowed without asking, for the recording test.
    session = await startSession(tmp, ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
    page = await openApp(session, errors);
    await page.setViewport({ width: 1000, height: 900 });
    await page.waitForSelector('body[data-ready="true"]');
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Picks model and head, gives the page a file through its file input, and waits for a result or an error. */
  async function analyse(head: string, file: string, model = 'models/demo'): Promise<{ error: string | null; decision: string | null }> {
    await page.evaluate(() => {
      document.getElementById('error')!.hidden = true;
      document.getElementById('result')!.hidden = true;
    });
    await page.select('#model', model);
    await page.select('#head', head);
    const input = (await page.$('#audio-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(file);
    await page.waitForFunction(() => !document.getElementById('error')!.hidden || !document.getElementById('result')!.hidden, { timeout: 60_000 });
    return page.evaluate(() => ({
      error: document.getElementById('error')!.hidden ? null : document.getElementById('error')!.textContent,
      decision: document.getElementById('result')!.hidden ? null : document.getElementById('decision')!.textContent,
    }));
  }

  it('offers the served stores and heads', async () => {
    const values = await page.$$eval('#model option, #head option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(values).toEqual(
      expect.arrayContaining(['models/demo', 'models/corrupt', 'models/head.json', 'models/other-model-head.json', 'layers:heads']),
    );
  });

  it('shows a detection: decision, P(spoof), reliability and the frame timeline; writes the screenshot', async () => {
    const r = await analyse('models/head.json', CLIP);
    expect(r.error).toBeNull();
    expect(['spoof', 'bona-fide']).toContain(r.decision);
    const p = Number(await page.$eval('#p-spoof', (e) => e.textContent));
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
    expect(await page.$eval('#details', (e) => e.textContent)).toContain('reliability');
    // Hovering a frame of the timeline names its contribution.
    const box = (await (await page.$('#wave'))!.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 180);
    expect(await page.$eval('#hover', (e) => e.textContent)).toMatch(/c_t = -?\d/);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });

  it('looks inside the model for the clip: CKA heatmap, attention maps by layer and head (screenshot out/browser-inside.png)', async () => {
    expect((await analyse('models/head.json', CLIP)).error).toBeNull();
    await page.click('#inspect');
    await page.waitForFunction(() => !document.getElementById('inside')!.hidden || !document.getElementById('error')!.hidden, { timeout: 60_000 });
    expect(await page.$eval('#error', (e) => (e as HTMLElement).hidden)).toBe(true);
    const layers = await page.$$eval('#att-layer option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(layers).toEqual(['1', '2', '3', '4', '5', '6']); // the demo model's 6 layers
    expect(await page.$eval('#att-layer', (e) => (e as HTMLSelectElement).value)).toBe('6');
    // A click on the heatmap's third row (hidden state 2) shows layer 2's attention.
    const cka = (await page.$('#cka'))!;
    const box = (await cka.boundingBox())!;
    await cka.click({ offset: { x: box.width / 2, y: (2.5 / 7) * box.height } }); // (scrolled into view first)
    expect(await page.$eval('#att-layer', (e) => (e as HTMLSelectElement).value)).toBe('2');
    expect(await page.$eval('#cka-info', (e) => e.textContent)).toMatch(/^CKA\(hidden state 2, hidden state 3\) = \d\.\d{4}/);
    await page.select('#att-head', '1');
    expect(await page.$eval('#att-info', (e) => e.textContent)).toMatch(/^Layer 2, head 1: .*entropy \d/);
    await page.screenshot({ path: path.join(path.dirname(SCREENSHOT), 'browser-inside.png'), fullPage: true });
  });

  it('records from the microphone and scores the recording', async () => {
    await page.select('#head', 'models/head.json');
    await page.evaluate(() => {
      document.getElementById('result')!.hidden = true;
    });
    await page.click('#record');
    await page.waitForFunction(() => document.getElementById('record')!.textContent!.includes('stop'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await page.click('#record');
    await page.waitForFunction(() => !document.getElementById('error')!.hidden || !document.getElementById('result')!.hidden, { timeout: 60_000 });
    expect(await page.$eval('#error', (e) => (e as HTMLElement).hidden)).toBe(true);
    const details = await page.$eval('#details', (e) => e.textContent!);
    expect(details).toContain('recording.wav');
    expect(Number(/duration(\d+\.\d+) s/.exec(details)![1])).toBeGreaterThan(0.5);
  });

  it("scores every layer of a probe's heads/ folder", async () => {
    const r = await analyse('layers:heads', CLIP);
    expect(r.error).toBeNull();
    const bars = await page.$$eval('#layer-bars .bar', (rows) => rows.map((row) => row.textContent));
    expect(bars).toEqual([expect.stringMatching(/^layer 1\d\.\d{3}$/), expect.stringMatching(/^layer 3\d\.\d{3}$/)]);
    expect(await page.$eval('#layers', (e) => (e as HTMLElement).hidden)).toBe(false);
    // The deepest layer is in focus with its timeline; a click on layer 1's bar focuses that one.
    const scoredBy = () => page.$eval('#details', (e) => e.textContent);
    expect(await scoredBy()).toContain('scored bylayer 3');
    await page.click('#layer-bars .bar:first-child');
    await page.waitForFunction(() => document.getElementById('details')!.textContent!.includes('scored bylayer 1'));
    expect(await page.$eval('#layer-bars .bar.focus', (e) => e.textContent)).toMatch(/^layer 1/);
  });

  it('shows a file that is not audio as an error in the page', async () => {
    const notes = path.join(tmp, 'notes.wav');
    fs.writeFileSync(notes, 'these are notes, not audio');
    const r = await analyse('models/head.json', notes);
    expect(r.error).toMatch(/notes\.wav: .*(WAV|FLAC|MP3|audio)/i);
    expect(r.decision).toBeNull();
  });

  it('shows a corrupt store as an error in the page', async () => {
    const r = await analyse('models/head.json', CLIP, 'models/corrupt');
    expect(r.error).toMatch(/group1-shard1of1\.bin: sha256 does not match wavprobe\.json/);
  });

  it('shows a head trained on another model as an error in the page', async () => {
    const r = await analyse('models/other-model-head.json', CLIP);
    expect(r.error).toMatch(/other-model-head\.json.*model/);
  });

  it('stays usable after the errors', async () => {
    expect((await analyse('models/head.json', CLIP)).error).toBeNull();
  });

  it('reports fetch progress up to the store size, and after a reload takes the store from the Cache API', async () => {
    fs.cpSync(path.join(tmp, 'demo'), path.join(tmp, 'cache-test'), { recursive: true }); // a store no page fetched yet
    const fresh = await session.browser.newPage();
    fresh.on('pageerror', (e) => errors.push(String(e)));
    const shards: string[] = [];
    fresh.on('request', (r) => void (r.url().endsWith('.bin') && shards.push(r.url())));
    const storeBytes = Object.values(
      JSON.parse(fs.readFileSync(path.join(tmp, 'demo', 'wavprobe.json'), 'utf8')).files as Record<string, { bytes: number }>,
    ).reduce((a, f) => a + f.bytes, 0);
    const run = () =>
      fresh.evaluate(
        async (a) => {
          const seen: { loaded: number; total: number }[] = [];
          const r = await (globalThis as any).wavprobe.detect({
            model: '/models/cache-test',
            head: '/models/head.json',
            audio: new Uint8Array(a).buffer,
            onProgress: (p: { loaded: number; total: number }) => seen.push(p),
          });
          return { ok: r.ok, last: seen[seen.length - 1] };
        },
        [...fs.readFileSync(CLIP)],
      );
    try {
      await fresh.goto(session.url);
      await fresh.waitForSelector('body[data-ready="true"]');
      const first = await run();
      expect(first.ok).toBe(true);
      expect(first.last).toEqual({ loaded: storeBytes, total: storeBytes, file: expect.any(String) });
      expect(shards.length).toBe(1);
      await fresh.reload();
      await fresh.waitForSelector('body[data-ready="true"]');
      const second = await run();
      expect(second.ok).toBe(true);
      expect(shards.length).toBe(1); // not fetched again
    } finally {
      await fresh.close();
    }
  });

  it('takes a store folder and a head file picked from the disk', async () => {
    // A webkitdirectory input takes the folder itself (Chromium lists its files, named demo/…).
    await ((await page.$('#model-folder')) as ElementHandle<HTMLInputElement>).uploadFile(path.join(tmp, 'demo'));
    await page.waitForFunction(() => /store folder of 5 files/.test(document.getElementById('status')!.textContent!));
    await ((await page.$('#head-file')) as ElementHandle<HTMLInputElement>).uploadFile(path.join(tmp, 'head.json'));
    await page.waitForFunction(() => /picked the head head\.json/.test(document.getElementById('status')!.textContent!));
    const r = await analyse('__local__', CLIP, '__local__');
    expect(r.error).toBeNull();
    expect(['spoof', 'bona-fide']).toContain(r.decision);
  });

  it('without cross-origin isolation: one thread, and the page says so', async () => {
    // The same files from a plain server, without COOP/COEP.
    const plain = http.createServer((req, res) => {
      const rel = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      const file = rel.startsWith('/models/') ? path.join(tmp, rel.slice('/models/'.length)) : path.join(appDir(), rel === '/' ? 'index.html' : rel);
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return void res.writeHead(404).end();
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.html') ? 'text/html' : '';
      res.writeHead(200, type ? { 'Content-Type': type } : {}).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const other = await session.browser.newPage();
    other.on('pageerror', (e) => errors.push(String(e)));
    try {
      await other.goto(`http://127.0.0.1:${(plain.address() as { port: number }).port}/`);
      await other.waitForSelector('body[data-ready="true"]');
      expect(await other.$eval('#engine', (e) => e.textContent)).toMatch(/1 thread.*not cross-origin isolated: one thread/);
      const info = await other.evaluate(() => (globalThis as any).wavprobe.info({ threads: 2 }));
      expect(info).toMatchObject({ threads: 1, crossOriginIsolated: false, note: expect.stringMatching(/not cross-origin isolated/) });
      const r = await other.evaluate(
        (a) => (globalThis as any).wavprobe.detect({ model: '/models/demo', head: '/models/head.json', audio: new Uint8Array(a).buffer, threads: 2 }),
        [...fs.readFileSync(CLIP)],
      );
      expect(r.ok).toBe(true);
    } finally {
      await other.close();
      plain.close();
    }
  });

  it('raised no page error', () => expect(errors).toEqual([]));
});
