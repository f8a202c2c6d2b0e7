/**
 * wavprobe vs onnxruntime-web in the same headless Chromium, interleaved: rounds of (wavprobe.forward in the page
 * `wavprobe serve` serves, onnxruntime-web's wasm backend on the same architecture exported to ONNX), each in a fresh
 * browser with the same thread count; the order alternates. Both run from the same origin (cross-origin isolated,
 * so both get threads), their files under one models folder kept in $WAVPROBE_CACHE/peers/browser: the random-weight
 * store, the ONNX file (compare.ts's export, linked) and onnxruntime-web's wasm files. On demand, never in CI; needs
 * `npm --prefix bench/peers ci`, Debian's python3-torch (for the export) and Chromium.
 *
 *   npx tsx bench/peers/browser.ts --arch wav2vec2-base --seconds 10 --threads 2 --rounds 5 [--layers 7] [--strassen] [--json]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchBrowser, benchStore, openPage, startBrowserSession } from '../../lib/bench/browser';
import { median } from '../../lib/bench/machine';
import { PRESETS, PresetName } from '../../lib/bench/presets';
import { layersUpTo } from '../../lib/cli/input';
import { cacheDir } from '../../lib/weights/cache';
import { arg } from '../args';
import { onnxFile, ratio, requireOrt } from './compare';

const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

/** onnxruntime-web's files and the ONNX export under `models` (a hard link: serve refuses symlinks out of its folder). */
function ortAssets(models: string, onnx: string): { ortDir: string; onnxName: string } {
  const dist = path.join(__dirname, 'node_modules', 'onnxruntime-web', 'dist');
  const version = JSON.parse(fs.readFileSync(path.join(dist, '..', 'package.json'), 'utf8')).version;
  const ortDir = `onnxruntime-web-${version}`;
  fs.mkdirSync(path.join(models, ortDir), { recursive: true });
  for (const f of ORT_FILES) fs.copyFileSync(path.join(dist, f), path.join(models, ortDir, f));
  const onnxName = path.basename(onnx);
  if (!fs.existsSync(path.join(models, onnxName)))
    try {
      fs.linkSync(onnx, path.join(models, onnxName));
    } catch {
      fs.copyFileSync(onnx, path.join(models, onnxName)); // another file system
    }
  return { ortDir, onnxName };
}

interface OrtPageTimes {
  first: number;
  seconds: number[];
  isolated: boolean;
  version: string;
  /** What onnxruntime-web ran on (it falls back to 1 where wasm threads are missing). */
  threads: number;
}

/** Runs in the page: onnxruntime-web (wasm) on `threads` threads, a first run (load + warm-up), then `runs` timed. */
async function ortInPage(ortDir: string, modelUrl: string, samples: number, threads: number, runs: number): Promise<OrtPageTimes> {
  type Ort = {
    env: { wasm: { numThreads: number; wasmPaths: string }; versions: { web: string } };
    InferenceSession: { create(url: string, o: object): Promise<{ inputNames: string[]; run(feeds: object): Promise<unknown> }> };
    Tensor: new (type: string, data: Float32Array, dims: number[]) => object;
  };
  // A real dynamic import in the page (TypeScript would turn `import()` into require() in this CommonJS file).
  const ort = (await new Function('u', 'return import(u)')(`${ortDir}ort.wasm.min.mjs`)) as Ort;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = ortDir;
  const data = new Float32Array(samples);
  for (let i = 0; i < samples; i++) data[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000) + 0.05 * Math.sin(i * 12.9898);
  let t0 = performance.now();
  const session = await ort.InferenceSession.create(modelUrl, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [1, samples]) };
  await session.run(feeds);
  const first = (performance.now() - t0) / 1000;
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await session.run(feeds);
    seconds.push((performance.now() - t0) / 1000);
  }
  return {
    first,
    seconds,
    isolated: (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated,
    version: ort.env.versions.web,
    threads: ort.env.wasm.numThreads,
  };
}

async function ortWebInBrowser(models: string, ortDir: string, onnxName: string, samples: number, threads: number, runs: number) {
  const session = await startBrowserSession(models);
  try {
    const { page, failed } = await openPage(session);
    const r = await Promise.race([
      page.evaluate(ortInPage, `${session.url}models/${ortDir}/`, `${session.url}models/${onnxName}`, samples, threads, runs),
      failed,
    ]);
    return { ...r, browser: session.version };
  } finally {
    await session.close();
  }
}

async function main(): Promise<void> {
  requireOrt();
  const [arch, seconds, threads, rounds, runs, layers, json] = [
    arg('arch', 'wav2vec2-base') as PresetName,
    arg('seconds', '10'),
    Number(arg('threads', '2')),
    Number(arg('rounds', '5')),
    Number(arg('runs', '1')),
    arg('layers', ''),
    process.argv.includes('--json'),
  ];
  if (!PRESETS[arch]) throw new Error(`--arch: one of ${Object.keys(PRESETS).join(', ')}`);
  const upToLayer = layers ? layersUpTo(layers, PRESETS[arch].numHiddenLayers) : undefined;
  const models = path.join(cacheDir(), 'peers', 'browser');
  fs.mkdirSync(models, { recursive: true });
  benchStore(models, arch, upToLayer); // written once, before the timed rounds
  const { ortDir, onnxName } = ortAssets(models, onnxFile(arch, seconds, upToLayer === undefined ? '' : String(upToLayer)));
  const log = (human: string, obj: object): void => console.log(json ? JSON.stringify(obj) : human);
  const samples = Math.round(Number(seconds) * 16000);
  const load = [os.loadavg()[0]];
  const times: Record<'wavprobe' | 'ort-web', number[]> = { wavprobe: [], 'ort-web': [] };
  const config: Record<string, string> = {};
  for (let i = 0; i < rounds; i++) {
    const row: Record<string, number> = {};
    for (const peer of i % 2 ? (['ort-web', 'wavprobe'] as const) : (['wavprobe', 'ort-web'] as const)) {
      if (peer === 'wavprobe') {
        const r = await benchBrowser({
          arch,
          seconds: Number(seconds),
          upToLayer,
          runs,
          threads,
          models,
          strassen: process.argv.includes('--strassen'),
        });
        row.wavprobe = r.median_s;
        config.wavprobe ??= `wavprobe ${r.backend} × ${r.threads} threads (tfjs ${r.tfjs_threads}), ${r.browser}, isolated ${r.cross_origin_isolated}, dense weights ${r.strassen ? "in Strassen's layout" : 'in panels'}${r.note ? `, ${r.note}` : ''}`;
      } else {
        const r = await ortWebInBrowser(models, ortDir, onnxName, samples, threads, runs);
        row['ort-web'] = +median(r.seconds).toFixed(3);
        config['ort-web'] ??= `onnxruntime-web ${r.version} (wasm SIMD) × ${r.threads} threads, ${r.browser}, isolated ${r.isolated}`;
      }
      times[peer].push(row[peer]);
    }
    log(`round ${i + 1}: wavprobe ${row.wavprobe} s, ort-web ${row['ort-web']} s`, { round: i + 1, ...row });
  }
  load.push(os.loadavg()[0]);
  const [ours, ort] = [+median(times.wavprobe).toFixed(3), +median(times['ort-web']).toFixed(3)];
  const summary = {
    arch,
    audio_s: Number(seconds),
    threads,
    layers: upToLayer ?? 'all',
    rounds,
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length, loadavg_1min: load },
    peers: {
      wavprobe: { config: config.wavprobe, median_s: ours, rounds: times.wavprobe },
      'ort-web': { config: config['ort-web'], median_s: ort, rounds: times['ort-web'] },
    },
    ratios: { 'ort-web': ratio(ours, ort) },
  };
  if (json) console.log(JSON.stringify(summary));
  else {
    console.log(
      `${arch}, ${seconds} s, layers ${summary.layers}, ${threads} threads, ${rounds} rounds in Chromium (load ${load.map((l) => l.toFixed(1)).join(' → ')}):`,
    );
    console.log(`  wavprobe ${ours} s  ${config.wavprobe}`);
    console.log(`  ort-web  ${ort} s  ratio ${summary.ratios['ort-web']}  ${config['ort-web']}`);
  }
}

main().catch((e) => {
  console.error(`bench/peers/browser.ts: ${(e as Error).message}`);
  process.exitCode = 1;
});
