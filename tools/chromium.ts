/**
 * Headless Chromium for the browser specs and tools/browser-xlsr.ts: Debian's package driven by puppeteer-core, the
 * app served by `wavprobe serve` (lib/serve.ts) so the page is cross-origin isolated. No jest here (tsconfig.build
 * compiles tools/).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Page } from 'puppeteer-core';
import puppeteer from 'puppeteer-core';
import { Served, serve } from '../lib/serve';

export const CHROMIUM = process.env.WAVPROBE_CHROMIUM ?? '/usr/bin/chromium';
export const APP = path.join(__dirname, '..', 'dist', 'browser');

/** The flags a closed network and a root account need (without the network ones Chromium keeps calling home). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface Session {
  browser: Browser;
  served: Served;
  close(): Promise<void>;
}

/** Serves the built app (failing clearly when it is not built) and starts Chromium. */
export async function startSession(models?: string, extraArgs: string[] = []): Promise<Session> {
  if (!fs.existsSync(path.join(APP, 'engine.js'))) throw new Error(`${APP} has no engine.js: build the app with npm run build`);
  const served = await serve({ port: 0, app: APP, models });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extraArgs, `--user-data-dir=${profile}`], headless: true });
  } catch (e) {
    await served.close();
    throw e;
  }
  return {
    browser,
    served,
    async close() {
      await browser.close();
      await served.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A page of the app with its page errors collected (a spec asserts there are none). */
export async function openApp(s: Session, errors: string[] = []): Promise<Page> {
  const page = await s.browser.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(s.served.url);
  await page.waitForSelector('body[data-ready="true"]'); // the page's own engine has started: no call races it
  return page;
}
