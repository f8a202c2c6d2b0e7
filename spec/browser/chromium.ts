/**
 * Chromium for the browser specs (one browser per spec file, started by lib/bench/browser.ts), tensors out of the
 * page, and the demo model with heads to serve.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'puppeteer-core';
import { readDataset } from '../../lib/data';
import { extractFeatures } from '../../lib/features/extract';
import { trainHead, writeHead } from '../../lib/probe/head';
import { chromiumPath } from '../../lib/bench/browser';
export { startBrowserSession as startSession } from '../../lib/bench/browser';
export type { BrowserSession as Session } from '../../lib/bench/browser';
import { SystemComponent } from '../helpers/system';

export { openApp } from '../../tools/chromium';

const ROOT = path.join(__dirname, '..', '..');
const DEMO_MODEL = path.join(ROOT, 'weights', 'demo');

export const chromium: SystemComponent = {
  name: 'chromium',
  missing: () => (fs.existsSync(chromiumPath()) ? undefined : `${chromiumPath()} is not installed`),
  enable: 'sh tools/setup-chromium.sh (apt-get install chromium), or set WAVPROBE_CHROMIUM',
};

export interface TensorOut {
  shape: number[];
  data: Float32Array;
}

/** Runs `wavprobe.forward` in the page; the tensors come back as base64 of their float32 bytes (exact, and compact). */
export async function forwardInPage(
  page: Page,
  args: { model: string; inputs: unknown; threads: number; strassen?: boolean },
): Promise<Map<string, TensorOut>> {
  const got = await page.evaluate(async (a) => {
    const r: Record<string, { shape: number[]; data: Float32Array }> = await (globalThis as any).wavprobe.forward(a);
    const b64 = (d: Float32Array) => {
      const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    };
    return Object.entries(r).map(([name, t]) => [name, t.shape, b64(t.data), t.data instanceof Float32Array] as const);
  }, args);
  return new Map(
    got.map(([name, shape, b64, isF32]) => {
      if (!isF32) throw new Error(`${name} is not a Float32Array`);
      const buf = Buffer.from(b64, 'base64');
      return [name, { shape, data: new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4) }];
    }),
  );
}

/**
 * The demo model, a layer-3 head trained on 30 digits-spoof files (head.json) and a probe-like heads/ folder with
 * layer_01.json and layer_03.json, in a folder `serve` offers at /models/.
 */
export async function demoModels(dir: string): Promise<{ model: string; head: string }> {
  const model = path.join(dir, 'demo');
  fs.cpSync(DEMO_MODEL, model, { recursive: true });
  const items = readDataset(`in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'train')}`).slice(0, 30);
  const store = path.join(os.tmpdir(), `wavprobe-browser-features-${process.pid}`);
  fs.rmSync(store, { recursive: true, force: true });
  await extractFeatures(items, { model, layers: '1,3' }, store);
  const head = path.join(dir, 'head.json');
  writeHead(head, trainHead(store, 3, { C: 1 }));
  fs.mkdirSync(path.join(dir, 'heads'));
  for (const layer of [1, 3]) writeHead(path.join(dir, 'heads', `layer_0${layer}.json`), trainHead(store, layer, { C: 1 }));
  fs.rmSync(store, { recursive: true, force: true });
  return { model, head };
}
