/**
 * One process: load a model directory (a weight store or HF checkpoint) with loadModel, time `--runs` forwards
 * of the bench test signal after a warm-up, and print load time, forward times and peak RSS as one JSON line.
 * Run fp16 and fp32 stores alternately, each in a fresh process, for an interleaved A/B (bench/RESULTS.md, "Memory").
 *   npx tsx bench/memory/forward-store.ts --model /tmp/mem/xlsr-1b-f16 --seconds 10 --runs 1 [--threads 2]
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, wasmThreadsCount } from '../../lib/backend';
import { testSignal } from '../../lib/bench/forward';
import { peakRssBytes } from '../../lib/bench/rss';
import { median, timeRuns } from '../../lib/bench/machine';
import { inputTensors, loadModel, preprocess } from '../../lib/models';
import { arg } from '../args';

async function main(): Promise<void> {
  const model = arg('model');
  const seconds = Number(arg('seconds', '10'));
  await useBackend('wasm', { threads: Number(arg('threads', '2')) });
  const t0 = performance.now();
  const m = loadModel(model);
  const load = (performance.now() - t0) / 1000;
  const rssLoaded = process.memoryUsage().rss;
  const { inputValues } = inputTensors(preprocess([testSignal(seconds)], m.preprocessor));
  const times = timeRuns(Number(arg('runs', '1')), () => m.forward(inputValues) as unknown as tf.TensorContainer);
  inputValues.dispose();
  const out = {
    model,
    seconds,
    threads: await wasmThreadsCount(),
    streamed: m.streamsWeights,
    load_s: +load.toFixed(2),
    forward_s: times.map((t) => +t.toFixed(3)),
    median_s: +median(times).toFixed(3),
    rss_after_load_mb: Math.round(rssLoaded / 2 ** 20),
    peak_rss_mb: Math.round(peakRssBytes() / 2 ** 20),
  };
  m.dispose();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
