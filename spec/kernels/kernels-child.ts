/** Child process for kernels.spec.ts: the kernel checks with 2 threads (threads are per process). */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { kernels } from '../../lib/kernels';
import { kernelErrors } from './checks';

(async () => {
  await useBackend('wasm', { threads: 2 });
  const before = tf.memory().numTensors;
  const errors = kernelErrors();
  process.stdout.write(JSON.stringify({ threads: kernels()?.threads, variant: kernels()?.variant, errors, leaked: tf.memory().numTensors - before }));
})().catch((e) => {
  process.stderr.write(String((e as Error)?.stack ?? e));
  process.exitCode = 1;
});
