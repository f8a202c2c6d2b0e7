/** `wavprobe bench forward|kernels|extract`: benchmarks on seeded random weights at real sizes; they print, never judge. */
import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { benchBrowser } from '../bench/browser';
import { benchForward } from '../bench/forward';
import { benchExtract } from '../bench/extract';
import { benchKernels } from '../bench/kernels';
import { readDataset } from '../data';
import { DEMO_DATA, DEMO_MODEL } from '../demo';
import { PRESETS, PRESET_NAMES, PresetName } from '../bench/presets';
import { layersUpTo } from './input';
import { BackendArgs, runCommand, selectBackend, withBackend } from './run';

interface BenchArgs extends BackendArgs {
  arch: PresetName;
  seconds: number;
  runs: number;
  json?: boolean;
}

function common<T>(y: Argv<T>): Argv<T & BenchArgs> {
  return withBackend(y)
    .option('arch', { choices: PRESET_NAMES, default: 'wav2vec2-base' as PresetName, describe: 'architecture preset (random weights)' })
    .option('seconds', { type: 'number', default: 10, describe: 'seconds of 16 kHz audio' })
    .option('runs', { type: 'number', default: 3, describe: 'timed runs after one warm-up run' })
    .option('json', { type: 'boolean', describe: 'JSON output' }) as Argv<T & BenchArgs>;
}

const forward: CommandModule<object, BenchArgs & { layers?: string; streamWeights?: boolean; strassen?: boolean }> = {
  command: 'forward',
  describe: 'Time a whole forward pass',
  builder: (y) =>
    common(y)
      .option('layers', { type: 'string', describe: '0..k: stop after encoder layer k' })
      .option('stream-weights', { type: 'boolean', describe: 'upload layer weights per forward (default: when they exceed 1.5 GiB on wasm)' })
      .option('strassen', {
        type: 'boolean',
        describe: 'resident dense weights as one level of Strassen (default: on unless WAVPROBE_STRASSEN=0; --no-strassen to compare)',
      }),
  handler: (args) =>
    runCommand('bench forward', async () => {
      const upToLayer = layersUpTo(args.layers, PRESETS[args.arch].numHiddenLayers);
      const r = await benchForward({
        arch: args.arch,
        seconds: args.seconds,
        upToLayer,
        runs: args.runs,
        backend: args.backend,
        threads: args.threads,
        streamWeights: args.streamWeights,
        strassen: args.strassen,
      });
      if (args.json) console.log(JSON.stringify(r));
      else
        console.log(
          `${r.arch} ${r.audio_s} s, layers 0..${r.layers}, ${r.backend} × ${r.threads} threads: median ${r.median_s} s (min ${r.min_s}), RTF ${r.rtf}, ${r.gflops} GFLOP/s, peak RSS ${r.peak_rss_mb} MB${r.streamed_weights ? ', weights streamed' : ''}${r.strassen ? ', Strassen' : ''}`,
        );
    }),
};

const kernels: CommandModule<object, BenchArgs & { only?: string }> = {
  command: 'kernels',
  describe: "Time each kernel in the model's shapes, each checked against the cpu backend first",
  builder: (y) => common(y).option('only', { type: 'string', describe: 'regular expression on kernel names' }),
  handler: (args) =>
    runCommand('bench kernels', async () => {
      const samples = Math.round(args.seconds * 16000);
      const only = args.only ? new RegExp(args.only) : undefined;
      const results = await benchKernels(PRESETS[args.arch], samples, { backend: args.backend, threads: args.threads, runs: args.runs, only });
      for (const r of results) {
        if (args.json) console.log(JSON.stringify(r));
        else
          console.log(
            `${r.kernel.padEnd(48)} ${r.ok ? `${String(r.median_ms).padStart(9)} ms (CPU ${String(r.cpu_ms).padStart(9)} ms) ${String(r.gflops).padStart(7)} GFLOP/s  ×${String(r.count).padEnd(3)} ${(100 * r.flop_share).toFixed(1).padStart(5)} % of FLOPs` : `REFERENCE MISMATCH ${r.max_err}`}`,
          );
      }
      return results.every((r) => r.ok) ? 0 : 1;
    }),
};

const extract: CommandModule<object, BackendArgs & { model: string; data: string; split?: string; workers: string; limit?: number; json?: boolean }> =
  {
    command: 'extract',
    describe: 'Extraction throughput (files/s after start-up) with 1…N worker threads',
    builder: (y) =>
      withBackend(y)
        .option('model', { type: 'string', default: DEMO_MODEL, describe: 'model directory (default: the bundled demo model)' })
        .option('data', { type: 'string', default: `in-the-wild:${path.join(DEMO_DATA, 'train')}`, describe: 'KIND:PATH' })
        .option('split', { type: 'string' })
        .option('workers', { type: 'string', default: '1,2', describe: 'worker counts to compare' })
        .option('limit', { type: 'number', describe: 'first N files only' })
        .option('json', { type: 'boolean', describe: 'JSON output' }) as never,
    handler: (args) =>
      runCommand('bench extract', async () => {
        const items = readDataset(args.data, { split: args.split }).slice(0, args.limit);
        await selectBackend(args); // one worker runs in this thread
        const r = await benchExtract(items, { model: args.model, layers: 'all' }, args.workers.split(',').map(Number), args.backend);
        if (args.json) console.log(JSON.stringify(r));
        else
          for (const row of r.rows)
            console.log(
              `${row.workers} workers: ${row.files_per_s} files/s (steady state; ${row.files_per_s_all} with warm-up), ${row.audio_s_per_s} audio s/s, ×${row.speedup}`,
            );
      }),
  };

const browser: CommandModule<object, Omit<BenchArgs, 'backend'> & { layers?: string; models?: string; strassen?: boolean }> = {
  command: 'browser',
  describe: 'Time a whole forward pass in headless Chromium (the page `wavprobe serve` serves)',
  builder: (y) =>
    y
      .option('arch', { choices: PRESET_NAMES, default: 'wav2vec2-base' as PresetName, describe: 'architecture preset (random weights)' })
      .option('seconds', { type: 'number', default: 10, describe: 'seconds of 16 kHz audio' })
      .option('threads', {
        type: 'number',
        default: 1,
        describe: 'threads in the page (more than 1 needs cross-origin isolation, which serve gives)',
      })
      .option('runs', { type: 'number', default: 3, describe: 'timed runs after one warm-up run' })
      .option('layers', { type: 'string', describe: '0..k: a store cut after encoder layer k' })
      .option('models', { type: 'string', describe: 'folder for the random-weight store, kept and reused (default: a temp folder)' })
      .option('strassen', { type: 'boolean', describe: "dense weights in Strassen's layout in the page (default: off, the page's default)" })
      .option('json', { type: 'boolean', describe: 'JSON output' }) as never,
  handler: (args) =>
    runCommand('bench browser', async () => {
      const upToLayer = layersUpTo(args.layers, PRESETS[args.arch].numHiddenLayers);
      const r = await benchBrowser({
        arch: args.arch,
        seconds: args.seconds,
        upToLayer,
        runs: args.runs,
        threads: args.threads,
        models: args.models,
        strassen: args.strassen,
      });
      if (args.json) console.log(JSON.stringify(r));
      else
        console.log(
          `${r.arch} ${r.audio_s} s, layers 0..${r.layers}, ${r.browser}, ${r.backend} × ${r.threads} threads: median ${r.median_s} s (min ${r.min_s}), RTF ${r.rtf}, ${r.gflops} GFLOP/s, first call ${r.load_s} s${r.strassen ? ', Strassen' : ''}${r.note ? ` (${r.note})` : ''}`,
        );
    }),
};

export const benchCommand: CommandModule = {
  command: 'bench <kind>',
  describe: 'Benchmarks: forward (end to end), kernels, extract (throughput by worker count), or browser (forward in Chromium)',
  builder: (y) => y.command(forward).command(kernels).command(extract).command(browser).demandCommand(1),
  handler: () => undefined,
};
