/**
 * `bench forward` in a browser: lib/serve.ts (in this process, as `wavprobe serve` runs it) serves the app and a
 * folder of stores; headless Chromium (puppeteer-core, a dev dependency, loaded only here) opens the page and times
 * `wavprobe.forward` on seeded random weights at a preset's real size. Each forward's time includes the page's
 * round trip to its engine worker and the copy of every output back to the page (~20 MB at 10 s): the page API
 * has no cheaper call, and the onnxruntime-web peer (bench/peers/browser.ts) returns its output too.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Page } from 'puppeteer-core';
import { UsageError } from '../errors';
import { preprocess } from '../models/preprocess';
import { serve } from '../serve';
import { writeRandomStore } from '../models/random';
import { DEFAULT_PREPROCESSOR, ModelConfig } from '../weights/config';
import { isStore } from '../weights/store';
import { ForwardBenchResult, forwardFlop, round, testSignal } from './forward';
import { MachineInfo, median } from './machine';
import { PRESETS, PresetName } from './presets';

/** Debian's chromium package unless WAVPROBE_CHROMIUM names another build. */
export const chromiumPath = (): string => process.env.WAVPROBE_CHROMIUM ?? '/usr/bin/chromium';

/** Headless as root on a closed network: without the network flags Chromium keeps calling home. */
export const CHROMIUM_FLAGS = [
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

export interface BrowserSession {
  browser: Browser;
  /** The served app's URL (models at `${url}models/`). */
  url: string;
  /** Chromium's version string, e.g. HeadlessChrome/156.0.8078.114. */
  version: string;
  close(): Promise<void>;
}

/**
 * Headless Chromium (WAVPROBE_CHROMIUM or Debian's) on a fresh profile, driven by puppeteer-core (a dev
 * dependency, loaded only here); close() also removes the profile. No protocol timeout unless asked: one call into
 * the page may run every timed forward (minutes for large models).
 */
export async function launchChromium(extraArgs: string[] = []): Promise<{ browser: Browser; close(): Promise<void> }> {
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) throw new UsageError('no Chromium there: apt-get install chromium, or set WAVPROBE_CHROMIUM', executablePath);
  let puppeteer: typeof import('puppeteer-core');
  try {
    puppeteer = await import('puppeteer-core');
  } catch {
    throw new UsageError('puppeteer-core is not installed (a dev dependency: npm ci in a clone of wavprobe)', 'puppeteer-core');
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-chromium-'));
  const removeProfile = () => fs.rmSync(profile, { recursive: true, force: true });
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      args: [...CHROMIUM_FLAGS, ...extraArgs, `--user-data-dir=${profile}`],
      headless: true,
      protocolTimeout: 0,
    });
  } catch (e) {
    removeProfile();
    throw e;
  }
  return {
    browser,
    async close() {
      await browser.close();
      removeProfile();
    },
  };
}

/**
 * Serves the built app (lib/serve.ts, in this process, so the page is cross-origin isolated) with `models` at
 * /models/, and starts headless Chromium on a fresh profile with `extraArgs`; close() stops both.
 */
export async function startBrowserSession(models?: string, extraArgs: string[] = []): Promise<BrowserSession> {
  const served = await serve({ port: 0, models }); // refuses an app that is not built
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  try {
    chromium = await launchChromium(extraArgs);
  } catch (e) {
    await served.close();
    throw e;
  }
  return {
    browser: chromium.browser,
    url: served.url,
    version: await chromium.browser.version(),
    async close() {
      await chromium.close();
      await served.close();
    },
  };
}

/** A page at `url`, and a promise that rejects on the page's first uncaught error: the caller races its work against it. */
export async function openPage(session: BrowserSession, url = session.url): Promise<{ page: Page; failed: Promise<never> }> {
  const page = await session.browser.newPage();
  const failed = new Promise<never>((_, reject) => page.on('pageerror', (e) => reject(new Error(`page error: ${String(e)}`))));
  failed.catch(() => undefined); // observed by the caller's race, or not at all
  await page.goto(url);
  return { page, failed };
}

/** The preset (or config) cut after layer `upToLayer`: the page's forward runs the whole store, so the store is the cut model. */
export function cutConfig(arch: PresetName | ModelConfig, upToLayer?: number): ModelConfig {
  const c = typeof arch === 'string' ? PRESETS[arch] : arch;
  return { ...c, numHiddenLayers: upToLayer ?? c.numHiddenLayers };
}

/**
 * The cut config on seeded random weights (float32, as `bench forward` holds them) as a store in `models`, written
 * once: its folder's name (its URL path under /models/) carries a hash of the config, so a changed preset gets a new one.
 */
export function benchStore(models: string, arch: PresetName | ModelConfig, upToLayer?: number): string {
  const c = cutConfig(arch, upToLayer);
  const hash = crypto.createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 8);
  const name = `random-${typeof arch === 'string' ? arch : c.modelType}-layers-${c.numHiddenLayers}-${hash}`;
  if (!isStore(path.join(models, name)))
    writeRandomStore(path.join(models, name), c, { dtype: 'float32', source: `wavprobe bench (${name}, seed 1)` });
  return name;
}

export interface BrowserBenchOptions {
  /** A preset, or any config (the spec uses a tiny one). */
  arch: PresetName | ModelConfig;
  seconds: number;
  /** Stop after this encoder layer (default: all): the store holds only those layers. */
  upToLayer?: number;
  runs?: number;
  threads?: number;
  /** Where the store is written (kept, and reused when there); default a temp folder removed afterwards. */
  models?: string;
  /** Dense weights in Strassen's layout in the page (default: the page's, off). */
  strassen?: boolean;
}

/**
 * `bench forward`'s result as the page measures it (no streaming, no RSS: the page holds its store whole; machine
 * without the Node process's kernels, which the engine reports in the page), plus the browser's side.
 */
export interface BrowserBenchResult extends Omit<ForwardBenchResult, 'streamed_weights' | 'peak_rss_mb' | 'machine'> {
  /** threads: what the kernels ran on in the page (the engine's report); tfjs_threads: tfjs-wasm's own pool. */
  tfjs_threads: number;
  browser: string;
  cross_origin_isolated: boolean;
  /** The engine's note when it runs on fewer threads than asked for. */
  note?: string;
  machine: Pick<MachineInfo, 'cpu' | 'cores' | 'node'>;
}

/** What the page returns: every time in seconds, and the engine's report. */
interface PageTimes {
  first: number;
  seconds: number[];
  info: { backend: string; threads: number; tfjsThreads: number; crossOriginIsolated: boolean; strassen: boolean; note?: string };
}

export async function benchBrowser(o: BrowserBenchOptions): Promise<BrowserBenchResult> {
  const config = cutConfig(o.arch, o.upToLayer);
  const models = o.models ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-bench-browser-'));
  try {
    const store = benchStore(models, o.arch, o.upToLayer);
    const signal = testSignal(o.seconds);
    const input = preprocess([signal], DEFAULT_PREPROCESSOR);
    const session = await startBrowserSession(models);
    try {
      const { page, failed } = await openPage(session);
      await Promise.race([page.waitForFunction(() => 'wavprobe' in globalThis, { timeout: 60_000 }), failed]);
      const times: PageTimes = await Promise.race([
        page.evaluate(
          timeInPage,
          `models/${store}`,
          Array.from(input.inputValues),
          { threads: o.threads ?? 1, strassen: o.strassen ?? false },
          o.runs ?? 3,
        ),
        failed,
      ]);
      const med = median(times.seconds);
      const gflop = forwardFlop(config, signal.length) / 1e9;
      const cpus = os.cpus();
      return {
        arch: typeof o.arch === 'string' ? o.arch : o.arch.modelType,
        backend: times.info.backend,
        threads: times.info.threads,
        tfjs_threads: times.info.tfjsThreads,
        audio_s: o.seconds,
        layers: config.numHiddenLayers,
        runs: times.seconds.length,
        median_s: round(med),
        min_s: round(Math.min(...times.seconds)),
        rtf: round(med / o.seconds),
        gflop: round(gflop, 1),
        gflops: round(gflop / med, 1),
        load_s: round(times.first),
        browser: session.version,
        cross_origin_isolated: times.info.crossOriginIsolated,
        strassen: times.info.strassen,
        ...(times.info.note && { note: times.info.note }),
        machine: { cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, node: process.version },
      };
    } finally {
      await session.close();
    }
  } finally {
    if (!o.models) fs.rmSync(models, { recursive: true, force: true });
  }
}

/** Runs in the page: a first call (load + warm-up), then `runs` timed calls of the page API's forward. */
async function timeInPage(model: string, data: number[], opts: { threads: number; strassen: boolean }, runs: number): Promise<PageTimes> {
  type Api = {
    forward(a: {
      model: string;
      inputs: { input_values: { shape: number[]; data: Float32Array } };
      threads: number;
      strassen: boolean;
    }): Promise<unknown>;
    info(a: { threads: number; strassen: boolean }): Promise<PageTimes['info']>;
  };
  const api = (globalThis as unknown as { wavprobe: Api }).wavprobe;
  const inputs = { input_values: { shape: [1, data.length], data: Float32Array.from(data) } };
  let t0 = performance.now();
  await api.forward({ model, inputs, ...opts });
  const first = (performance.now() - t0) / 1000;
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await api.forward({ model, inputs, ...opts });
    seconds.push((performance.now() - t0) / 1000);
  }
  return { first, seconds, info: await api.info(opts) };
}
