/**
 * Resident dense weights in the layout of one level of Strassen (lib/nn/linear.ts, kernels.c gemm_strassen_cols):
 * on by default, off with WAVPROBE_STRASSEN=0 or for streamed layers, and the model computes what it computes on
 * plain panels, on both of the kernel's routes (quadrants from 32 rows, the 4-product form below). The kernel is
 * checked against float64 in spec/kernels; bench/numerics/compare.ts checks a real-size XLS-R forward against float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { testSignal } from '../../lib/bench/forward';
import { CreateModelOptions, createModel, disposeOutput, inputTensors, preprocess } from '../../lib/models';
import { randomModelSource } from '../../lib/models/random';
import { STRASSEN_CONFIG as CONFIG, relDiff } from '../helpers/strassen';
/** Strassen's 7 blocks of K/2 × N/2 hold 3/4 more than the weight: per layer 4·256² + 2·256·512 floats. */
const STRASSEN_EXTRA_BYTES = 0.75 * 4 * CONFIG.numHiddenLayers * (4 * 256 * 256 + 2 * 256 * 512);

beforeAll(() => useBackend('wasm'));

/** Device bytes the model holds, and its hidden states on `seconds` of the test signal. */
function run(opts: CreateModelOptions, seconds: number): { bytes: number; hidden: Float32Array[] } {
  const before = tf.memory().numBytes;
  const model = createModel(randomModelSource(CONFIG), opts);
  const bytes = tf.memory().numBytes - before;
  const { inputValues } = inputTensors(preprocess([testSignal(seconds)], model.preprocessor));
  const out = model.forward(inputValues);
  const hidden = out.hiddenStates.map((h) => h.dataSync() as Float32Array);
  disposeOutput(out);
  inputValues.dispose();
  model.dispose();
  return { bytes, hidden };
}

describe("Strassen's layout for resident dense weights", () => {
  it.each([
    [1, '49 frames: quadrants'],
    [0.5, '24 frames: the 4-product form'],
  ])('%s s (%s): the same hidden states as plain panels, for 3/4 more bytes of those weights', (seconds) => {
    const strassen = run({ strassen: true }, seconds);
    const panels = run({ strassen: false }, seconds);
    expect(strassen.bytes - panels.bytes).toBe(STRASSEN_EXTRA_BYTES);
    expect(relDiff(strassen.hidden, panels.hidden)).toBeLessThan(1e-5);
    expect(relDiff(strassen.hidden, panels.hidden)).toBeGreaterThan(0); // a different summation: the layout was used
  });

  it('is the default, unless WAVPROBE_STRASSEN=0', () => {
    const panels = run({ strassen: false }, 0.5).bytes;
    expect(run({}, 0.5).bytes).toBe(panels + STRASSEN_EXTRA_BYTES);
    process.env.WAVPROBE_STRASSEN = '0';
    try {
      expect(run({}, 0.5).bytes).toBe(panels);
    } finally {
      delete process.env.WAVPROBE_STRASSEN;
    }
  });

  it('is never used for streamed layers (packed per forward in plain panels)', () => {
    const streamed = run({ streamWeights: true, strassen: true }, 1);
    expect(streamed.bytes).toBe(run({ streamWeights: true, strassen: false }, 1).bytes);
    expect(relDiff(streamed.hidden, run({ strassen: false }, 1).hidden)).toBe(0);
  });
});
