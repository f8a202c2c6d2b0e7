/**
 * End-to-end forward at real model sizes with seeded random weights (lib/models/random.ts): 10 s of audio
 * through each preset, one child process per preset so each gets a fresh wasm heap and its own peak RSS.
 * Prints one JSON line per preset: {arch, backend, seconds, peak_rss_mb, ok, ...}. Not run by CI.
 *
 *   npx tsx bench/forward-real-size.ts [--arch wav2vec2-base,xlsr-300m] [--seconds 10] [--backend wasm] [--runs 2]
 */
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, useBackend } from '../lib/backend';
import { createModel, inputTensors, preprocess } from '../lib/models';
import { totalParameters } from '../lib/models/summary';
import { PRESET_NAMES, PresetName, PRESETS, randomModelSource } from '../lib/models/random';
import { testSignal } from '../lib/bench/forward';

interface Args {
  arch: PresetName[];
  seconds: number;
  backend: BackendName;
  runs: number;
  child: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const arch = (get('arch')?.split(',') ?? PRESET_NAMES) as PresetName[];
  for (const a of arch) if (!PRESET_NAMES.includes(a)) throw new Error(`unknown --arch ${a} (choose from ${PRESET_NAMES.join(', ')})`);
  return { arch, seconds: Number(get('seconds') ?? 10), backend: (get('backend') ?? 'wasm') as BackendName, runs: Number(get('runs') ?? 2), child: argv.includes('--child') };
}

async function runOne(arch: PresetName, a: Args, phase: { now: string }): Promise<Record<string, unknown>> {
  await useBackend(a.backend);
  let t0 = performance.now();
  phase.now = 'random weights';
  const source = randomModelSource(arch);
  phase.now = 'upload';
  const model = createModel(source, { releaseHostWeights: true });
  const loadSeconds = (performance.now() - t0) / 1000;
  const { inputValues } = inputTensors(preprocess([testSignal(a.seconds)], model.preprocessor));
  // Several calls: the first also packs the matMul weights (XNNPACK keeps its own copy), later ones show the
  // steady state a feature extraction loop lives in.
  const seconds: number[] = [];
  let ok = true;
  let frames = 0;
  for (let run = 0; run < a.runs; run++) {
    phase.now = `forward ${run + 1}`;
    t0 = performance.now();
    const out = model.forward(inputValues);
    const last = out.lastHiddenState!.dataSync();
    seconds.push((performance.now() - t0) / 1000);
    ok &&= last.every(Number.isFinite) && out.hiddenStates.length === model.config.numHiddenLayers + 1;
    frames = out.lastHiddenState!.shape[1];
    tf.dispose(out as unknown as tf.TensorContainer);
  }
  tf.dispose(inputValues);
  model.dispose();
  const wasmHeap = a.backend === 'wasm' ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length : undefined;
  return {
    arch,
    backend: a.backend,
    seconds: +seconds[0].toFixed(2),
    seconds_per_run: seconds.map((x) => +x.toFixed(2)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    ok,
    params_m: +(totalParameters(PRESETS[arch]) / 1e6).toFixed(1),
    audio_s: a.seconds,
    frames,
    load_seconds: +loadSeconds.toFixed(2),
    wasm_heap_mb: wasmHeap && Math.round(wasmHeap / 2 ** 20),
    tensors_left: tf.memory().numTensors,
  };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) {
    const phase = { now: 'start' };
    try {
      console.log(JSON.stringify(await runOne(a.arch[0], a, phase)));
    } catch (e) {
      // e.g. RuntimeError: memory access out of bounds, when the weights do not fit the 4 GB wasm32 heap
      const error = `${phase.now}: ${(e as Error).name}: ${(e as Error).message}`;
      console.log(JSON.stringify({ arch: a.arch[0], backend: a.backend, seconds: null, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), ok: false, error }));
    }
    return;
  }
  for (const arch of a.arch) {
    const args = [...process.execArgv, __filename, '--child', '--arch', arch, '--seconds', String(a.seconds), '--backend', a.backend, '--runs', String(a.runs)];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (r.status === 0 && line) console.log(line);
    else {
      // A hard crash (abort, killed for memory): the first error line the child printed.
      const lines = (r.stderr || r.stdout || '').split('\n');
      const error = lines.find((l) => /error|abort/i.test(l))?.trim() ?? `exit ${r.status ?? r.signal}`;
      console.log(JSON.stringify({ arch, backend: a.backend, seconds: null, peak_rss_mb: null, ok: false, error }));
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
