/**
 * Headless Chromium for the browser specs and tools/browser-xlsr.ts: Debian's package driven by puppeteer-core, the
 * app served by `wavprobe serve` (lib/serve.ts) so the page is cross-origin isolated. No jest here (tsconfig.build
 * compiles tools/).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium } from '../lib/bench/browser';
import { Served, serve } from '../lib/serve';

export const APP = path.join(__dirname, '..', 'dist', 'browser');

export interface Session {
  browser: Browser;
  served: Served;
  close(): Promise<void>;
}

/** Serves the built app (failing clearly when it is not built) and starts Chromium. */
export async function startSession(models?: string, extraArgs: string[] = []): Promise<Session> {
  if (!fs.existsSync(path.join(APP, 'engine.js'))) throw new Error(`${APP} has no engine.js: build the app with npm run build`);
  const served = await serve({ port: 0, app: APP, models });
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  try {
    chromium = await launchChromium(extraArgs);
  } catch (e) {
    await served.close();
    throw e;
  }
  return {
    browser: chromium.browser,
    served,
    async close() {
      await chromium.close();
      await served.close();
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
