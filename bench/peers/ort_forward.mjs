/**
 * onnxruntime peer of `wavprobe bench forward`: an ONNX export of the same architecture (export_onnx.py) on
 * onnxruntime-node (native, MLAS) or onnxruntime-web (wasm SIMD backend, here in Node), timed like ours: one warm-up
 * run, then --runs timed runs. Prints one JSON object like torch_forward.py. Run by compare.ts; on demand, never in CI.
 *
 *   node bench/peers/ort_forward.mjs --flavour node|web --model FILE.onnx --seconds 10 --threads 2 --runs 3
 */
/* global console, performance */
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    flavour: { type: 'string', default: 'node' },
    model: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
  },
});
if (!a.model) throw new Error('--model FILE.onnx is required');
if (a.flavour !== 'node' && a.flavour !== 'web') throw new Error(`--flavour: node or web, not ${a.flavour}`);
const threads = Number(a.threads);
const ort = await import(a.flavour === 'node' ? 'onnxruntime-node' : 'onnxruntime-web');
let options;
if (a.flavour === 'node') {
  // One op at a time (sequential), each op on `threads` threads: the split torch and wavprobe use.
  options = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' };
} else {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  options = { executionProviders: ['wasm'] };
}
const session = await ort.InferenceSession.create(a.model, { graphOptimizationLevel: 'all', ...options });
const samples = Math.round(Number(a.seconds) * 16000);
const data = new Float32Array(samples);
for (let i = 0; i < samples; i++) data[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000) + 0.05 * Math.sin(i * 12.9898);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [1, samples]) };
await session.run(feeds); // warm-up
const seconds = [];
for (let i = 0; i < Number(a.runs); i++) {
  const t0 = performance.now();
  await session.run(feeds);
  seconds.push((performance.now() - t0) / 1000);
}
const sorted = [...seconds].sort((x, y) => x - y);
const m = sorted.length >> 1;
const med = sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
const r3 = (x) => Number(x.toFixed(3));
console.log(
  JSON.stringify({
    backend: `onnxruntime-${a.flavour} ${ort.env.versions[a.flavour]} (${a.flavour === 'node' ? 'cpu, MLAS' : 'wasm SIMD'})`,
    // onnxruntime-web falls back to one thread (with a warning) where wasm threads are missing: report what it ran.
    threads: a.flavour === 'web' ? ort.env.wasm.numThreads : threads,
    audio_s: Number(a.seconds),
    runs: seconds.length,
    median_s: r3(med),
    min_s: r3(sorted[0]),
    rtf: r3(med / Number(a.seconds)),
  }),
);
await session.release();
