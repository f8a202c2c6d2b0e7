/**
 * A real-size forward against float64: runs bench/numerics/forward64.py (torchaudio's components with HF's
 * semantics, float64) on a model directory and the bench test signal, then wavprobe's forward on the wasm kernels
 * with the dense weights in Strassen's layout and in plain panels (same process), and prints per hidden state
 * max |wavprobe − float64| / max |float64| for each, as one JSON line. Needs Debian's python3-torch(audio)
 * (tools/golden/README.md) and an HF-format model directory (config.json + model.safetensors).
 *   npx tsx bench/numerics/compare.ts --model DIR [--seconds 10] [--threads 2]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, wasmThreadsCount } from '../../lib/backend';
import { testSignal } from '../../lib/bench/forward';
import { disposeOutput, inputTensors, loadModel, preprocess } from '../../lib/models';
import { readPreprocessorConfig } from '../../lib/weights/config';
import { arg } from '../args';

async function main(): Promise<void> {
  const dir = arg('model');
  const seconds = Number(arg('seconds', '10'));
  await useBackend('wasm', { threads: Number(arg('threads', '2')) });
  const { inputValues } = inputTensors(preprocess([testSignal(seconds)], readPreprocessorConfig(dir)));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-numerics-'));
  try {
    fs.writeFileSync(path.join(work, 'input.f32'), inputValues.dataSync() as Float32Array);
    const script = path.join(__dirname, 'forward64.py');
    const py = spawnSync('/usr/bin/python3', [script, '--model', dir, '--input', path.join(work, 'input.f32'), '--out', work], { stdio: 'inherit' });
    if (py.status !== 0) throw new Error(`forward64.py failed (${py.status ?? py.signal})`);
    const shapes = JSON.parse(fs.readFileSync(path.join(work, 'shapes.json'), 'utf8')) as Record<string, number[]>;
    const result: Record<string, unknown> = { model: dir, seconds, threads: await wasmThreadsCount() };
    for (const strassen of [true, false]) {
      const model = loadModel(dir, { strassen });
      const out = model.forward(inputValues);
      result[strassen ? 'strassen' : 'panels'] = out.hiddenStates.map((h, i) => {
        const ref = new Float32Array(fs.readFileSync(path.join(work, `hidden_states_${i}.f32`)).buffer.slice(0));
        if (h.size !== ref.length || shapes[`hidden_states_${i}`].reduce((a, b) => a * b) !== ref.length)
          throw new Error(`hidden_states_${i}: shapes differ`);
        const got = h.dataSync();
        let [diff, scale] = [0, 0];
        for (let j = 0; j < ref.length; j++) [diff, scale] = [Math.max(diff, Math.abs(got[j] - ref[j])), Math.max(scale, Math.abs(ref[j]))];
        return +(diff / scale).toExponential(2);
      });
      disposeOutput(out);
      model.dispose();
    }
    console.log(JSON.stringify(result));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    tf.dispose(inputValues);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
