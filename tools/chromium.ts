/**
 * The app in headless Chromium, for the browser specs and tools/browser-xlsr.ts: sessions come from
 * lib/bench/browser.ts (the app served in this process, Debian's Chromium through puppeteer-core). No jest here
 * (tsconfig.build compiles tools/).
 */
import type { Page } from 'puppeteer-core';
import type { BrowserSession } from '../lib/bench/browser';

/** A page of the app with its page errors collected (a spec asserts there are none). */
export async function openApp(s: BrowserSession, errors: string[] = []): Promise<Page> {
  const page = await s.browser.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(s.url);
  await page.waitForSelector('body[data-ready="true"]'); // the page's own engine has started: no call races it
  return page;
}
