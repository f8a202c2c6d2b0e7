/**
 * The golden fixtures through `wavprobe.forward` in Chromium (the page served by `wavprobe serve`, so cross-origin
 * isolated): every output of the 5 models × 4 cases within 1e-4 of HF's, with 1 thread (tfjs's SIMD build) and with
 * 2 (its threaded build and the kernel pool on Web Workers).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'puppeteer-core';
import { testSignal } from '../../lib/bench/forward';
import { writeRandomStore } from '../../lib/models/random';
import { convert } from '../../lib/weights/convert';
import { GOLDEN, GOLDEN_MODELS } from '../helpers/fixtures';
import { GOLDEN_CASES, TOLERANCE, expectedOutputNames, outputMismatches, readCase } from '../helpers/golden';
import { describeWith } from '../helpers/system';
import { STRASSEN_CONFIG, relDiff } from '../helpers/strassen';
import { Session, TensorOut, chromium, forwardInPage, openApp, startSession } from './chromium';

describeWith(chromium, 'wavprobe.forward in Chromium: golden parity', () => {
  let tmp: string;
  let session: Session;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-browser-forward-'));
    for (const m of GOLDEN_MODELS) await convert(path.join(GOLDEN, m), path.join(tmp, m));
    writeRandomStore(path.join(tmp, 'strassen'), STRASSEN_CONFIG, { dtype: 'float32', source: 'spec' });
    session = await startSession(tmp);
    page = await openApp(session, errors);
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe.each([1, 2])('%i thread(s)', (threads) => {
    it('starts an engine with that many threads, cross-origin isolated', async () => {
      const info = await page.evaluate((t) => (globalThis as any).wavprobe.info({ threads: t }), threads);
      expect(info).toMatchObject({ backend: 'wasm', threads, tfjsThreads: threads, crossOriginIsolated: true, strassen: false });
    });

    it("takes Strassen's layout when asked: the engine says so, and the hidden states are plain panels' within 1e-5", async () => {
      const inputs = { input_values: { shape: [1, 16000], data: Array.from(testSignal(1)) } };
      const hidden = (out: Map<string, TensorOut>) => [...out.keys()].filter((k) => k.startsWith('hidden_states_')).map((k) => out.get(k)!.data);
      const panels = hidden(await forwardInPage(page, { model: '/models/strassen', inputs, threads }));
      const strassen = hidden(await forwardInPage(page, { model: '/models/strassen', inputs, threads, strassen: true }));
      const info = await page.evaluate((t) => (globalThis as any).wavprobe.info({ threads: t, strassen: true }), threads);
      expect(info).toMatchObject({ threads, strassen: true });
      expect(strassen).toHaveLength(3);
      expect(relDiff(strassen, panels)).toBeLessThan(1e-5);
      expect(relDiff(strassen, panels)).toBeGreaterThan(0); // a different summation: the layout was used
    });

    const table = GOLDEN_MODELS.flatMap((m) => GOLDEN_CASES.map((c) => [m, c]));
    it.each(table)('%s / %s matches HF within 1e-4', async (m, name) => {
      const c = readCase(m, name);
      const tensor = (k: string) => {
        const t = c.get(k);
        return t && { shape: t.shape, data: Array.from(t.data) };
      };
      const inputs = { input_values: tensor('input_values'), ...(c.has('attention_mask') && { attention_mask: tensor('attention_mask') }) };
      const got = await forwardInPage(page, { model: `/models/${m}`, inputs, threads });
      expect([...got.keys()].sort()).toEqual(expectedOutputNames(c));
      expect(outputMismatches(got, c, TOLERANCE)).toEqual({});
    });
  });

  it('raised no page error', () => expect(errors).toEqual([]));
});
