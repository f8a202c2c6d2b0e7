/** Child process for golden-threads.spec.ts: the golden checks on wasm with 2 threads (threads are per process). */
import { useBackend, wasmThreadsCount } from '../../lib/backend';
import { runGolden } from '../helpers/golden';

(async () => {
  await useBackend('wasm', { threads: 2 });
  const threads = await wasmThreadsCount();
  const results = await runGolden('wasm'); // the backend is already up: it keeps its 2 threads
  process.stdout.write(JSON.stringify({ threads, results }));
})().catch((e) => {
  process.stderr.write(String((e as Error)?.stack ?? e));
  process.exitCode = 1;
});
