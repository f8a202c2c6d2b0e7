/**
 * XLS-R 300M (a float16 store of seeded random weights at the real size, lib/models/random.ts) loaded and run in the
 * app in headless Chromium, through `wavprobe serve` and `wavprobe.forward`: store fetch (sha256-checked, cached),
 * then forwards on S seconds of audio, with the peak memory of Chromium's processes (RSS summed over the browser's
 * process tree, sampled every 100 ms) and the engine's wasm heap. A script for the README, not a test:
 *   npx tsx tools/browser-xlsr.ts [--seconds 5] [--threads 1] [--layers 24] [--runs 2] [--strassen 1]
 * The store is written once to $WAVPROBE_CACHE/browser/xlsr-300m-fp16 (≈ 630 MB).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { wavprobe as Wavprobe } from '../lib/browser/api';
import { cacheDir } from '../lib/weights/cache';
import { PRESETS } from '../lib/bench/presets';
import { writeRandomStore } from '../lib/models/random';
import { startBrowserSession } from '../lib/bench/browser';
import { openApp } from './chromium';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};

/** RSS in bytes of `pid` and all its descendants. */
function treeRss(pid: number): number {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss='], { encoding: 'utf8' });
  const rows = out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of rows) if (tree.has(pp) && !tree.has(p)) grew = !!tree.add(p);
  }
  return rows.filter(([p]) => tree.has(p)).reduce((a, [, , rss]) => a + rss * 1024, 0);
}

async function main(): Promise<void> {
  const [seconds, threads, layers, runs, strassen] = [
    arg('seconds', 5),
    arg('threads', 1),
    arg('layers', 24),
    arg('runs', 2),
    arg('strassen', 0) === 1,
  ];
  const models = path.join(cacheDir(), 'browser');
  const store = path.join(models, 'xlsr-300m-fp16');
  if (!fs.existsSync(store)) {
    fs.mkdirSync(models, { recursive: true });
    console.error(`writing ${store} …`);
    writeRandomStore(store, { ...PRESETS['xlsr-300m'] }, { dtype: 'float16', source: 'xlsr-300m preset, seeded random weights (seed 1)' });
  }
  const session = await startBrowserSession(models);
  const pid = session.browser.process()!.pid!;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, treeRss(pid))), 100);
  const errors: string[] = [];
  try {
    const page = await openApp(session, errors);
    const idle = treeRss(pid);
    const result = await page.evaluate(
      async (s, t, runs, upToLayer, strassen) => {
        const w = (globalThis as unknown as { wavprobe: typeof Wavprobe }).wavprobe;
        const n = Math.round(16000 * s);
        const data = Float32Array.from({ length: n }, (_, i) => 0.1 * Math.sin(i / 7) + 0.05 * Math.sin(i / 3.1));
        const inputs = { input_values: { shape: [1, n], data } };
        const times: number[] = [];
        let names: string[] = [];
        const t0 = performance.now();
        for (let r = 0; r <= runs; r++) {
          const start = performance.now();
          const out = await w.forward({ model: '/models/xlsr-300m-fp16', inputs, threads: t, upToLayer, strassen });
          times.push(performance.now() - start);
          names = Object.keys(out);
        }
        return {
          firstCallMs: times[0],
          forwardMs: times.slice(1),
          totalMs: performance.now() - t0,
          names,
          info: await w.info({ threads: t, strassen }),
        };
      },
      seconds,
      threads,
      runs,
      layers,
      strassen,
    );
    const mb = (b: number) => Math.round(b / 2 ** 20);
    console.log(
      JSON.stringify(
        {
          browser: await session.browser.version(),
          model: 'xlsr-300m (float16 store, random weights)',
          store_mb: mb(fs.readdirSync(store).reduce((a, f) => a + fs.statSync(path.join(store, f)).size, 0)),
          seconds,
          threads: result.info.threads,
          up_to_layer: layers,
          kernels: result.info.kernels,
          strassen: result.info.strassen,
          outputs: result.names.length,
          first_call_ms: Math.round(result.firstCallMs),
          forward_ms: result.forwardMs.map(Math.round),
          rss_idle_mb: mb(idle),
          rss_peak_mb: mb(peak),
          page_errors: errors,
        },
        null,
        1,
      ),
    );
  } finally {
    clearInterval(sampler);
    await session.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
