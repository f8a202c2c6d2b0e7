/**
 * Interleaved A/B of two model directories in one process (e.g. a float16 and a float32 store of one model): both
 * loaded with loadModel, one warm-up forward each, then `--rounds` rounds of A then B (order swapped every round),
 * so the load of a shared machine falls on both alike. Prints each round's times and the medians as one JSON line.
 *   npx tsx bench/memory/ab-forward.ts --a /tmp/mem/xlsr-300m-f16 --b /tmp/mem/xlsr-300m-f32 --seconds 10 --rounds 5 [--stream]
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { testSignal } from '../../lib/bench/forward';
import { peakRssBytes } from '../../lib/bench/rss';
import { median } from '../../lib/bench/machine';
import { inputTensors, loadModel, preprocess } from '../../lib/models';
import { arg } from '../args';

async function main(): Promise<void> {
  await useBackend('wasm', { threads: Number(arg('threads', '2')) });
  const stream = process.argv.includes('--stream') ? { streamWeights: true } : {};
  const models = { a: loadModel(arg('a'), stream), b: loadModel(arg('b'), stream) };
  const { inputValues } = inputTensors(preprocess([testSignal(Number(arg('seconds', '10')))], models.a.preprocessor));
  const time = (k: 'a' | 'b'): number => {
    const t0 = performance.now();
    tf.dispose(models[k].forward(inputValues) as unknown as tf.TensorContainer);
    return (performance.now() - t0) / 1000;
  };
  time('a');
  time('b');
  const times: Record<'a' | 'b', number[]> = { a: [], b: [] };
  for (let r = 0; r < Number(arg('rounds', '5')); r++) for (const k of r % 2 ? (['b', 'a'] as const) : (['a', 'b'] as const)) times[k].push(time(k));
  const med = { a: median(times.a), b: median(times.b) };
  console.log(
    JSON.stringify({
      a: arg('a'),
      b: arg('b'),
      streamed: [models.a.streamsWeights, models.b.streamsWeights],
      times,
      median_s: med,
      ratio_a_b: +(med.a / med.b).toFixed(3),
      peak_rss_mb: Math.round(peakRssBytes() / 2 ** 20),
    }),
  );
  inputValues.dispose();
  models.a.dispose();
  models.b.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
