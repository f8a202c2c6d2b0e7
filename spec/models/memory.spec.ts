/**
 * The memory paths for long audio and large models must compute what the plain paths compute (which the golden
 * specs hold to HF): the conv encoder run in chunks, and transformer weights streamed per layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { createModel, frameLengths, namedOutputs } from '../../lib/models';
import { DeviceWeights } from '../../lib/models/device-weights';
import { featureEncoder } from '../../lib/models/feature-encoder';
import { mulberry32 } from '../../lib/random';
import { loadModelDir } from '../../lib/weights';
import { GOLDEN, GOLDEN_MODELS } from '../helpers/fixtures';
import { caseInputs, maxAbsDiff, outputMismatches, readCase } from '../helpers/golden';
import * as path from 'path';

beforeAll(() => useBackend('wasm'));

const checkpoint = (m: string) => loadModelDir(path.join(GOLDEN, m));

/** Two rows of seeded noise, the second right-padded with zeros after `valid` samples (as a batch is). */
function noiseBatch(n: number, valid: number): tf.Tensor2D {
  const rand = mulberry32(11);
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) x[i] = rand() - 0.5;
  for (let i = 0; i < valid; i++) x[n + i] = 0.3 * (rand() - 0.5) + 0.2; // an offset the group norm must remove
  return tf.tensor2d(x, [2, n]);
}

describe('conv encoder in chunks', () => {
  it.each(GOLDEN_MODELS)('%s: chunks of 1, 3 and 7 frames give the whole-input features', (m) => {
    const ckpt = checkpoint(m);
    const weights = new DeviceWeights(ckpt.weights);
    const n = 12345; // not a multiple of the hop: the tail samples give no frame but do enter layer 0's statistics
    const x = noiseBatch(n, 9000);
    const before = tf.memory().numTensors;
    const whole = featureEncoder(weights, ckpt.config, x, Infinity);
    expect(whole.shape).toEqual([2, frameLengths(ckpt.config, [n])[0], ckpt.config.convDim.at(-1)]);
    const wholeData = whole.dataSync();
    for (const frames of [1, 3, 7]) {
      const chunked = featureEncoder(weights, ckpt.config, x, frames);
      expect(chunked.shape).toEqual(whole.shape);
      expect(maxAbsDiff(chunked.dataSync(), wholeData)).toBeLessThanOrEqual(1e-5);
      chunked.dispose();
    }
    whole.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    weights.dispose();
  });
});

describe('streamed weights', () => {
  it.each(GOLDEN_MODELS)("%s: every output equals the resident model's; only the shared weights stay on the backend", (m) => {
    const c = readCase(m, 'batch_padded');
    const { inputValues, attentionMask } = caseInputs(c);
    const base = tf.memory().numBytes;
    const resident = createModel(checkpoint(m), { streamWeights: false });
    const residentBytes = tf.memory().numBytes - base;
    const residentOut = resident.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true } });
    const want = namedOutputs(residentOut);
    tf.dispose(residentOut as unknown as tf.TensorContainer);
    resident.dispose();

    let layerBytes = 0; // the transformer layers' own weights (WavLM's shared position embedding excepted)
    for (const [key, t] of checkpoint(m).weights)
      if (/^encoder\.layers\.\d+\./.test(key) && !key.includes('rel_attn_embed')) layerBytes += 4 * t.data.length;
    const streamed = createModel(checkpoint(m), { streamWeights: true });
    expect(tf.memory().numBytes - base).toBe(residentBytes - layerBytes);
    const tensors = tf.memory().numTensors;
    for (let run = 0; run < 2; run++) {
      const out = streamed.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true } });
      const got = namedOutputs(out);
      expect(outputMismatches(got, want, 0)).toEqual({});
      tf.dispose(out as unknown as tf.TensorContainer);
      expect(tf.memory().numTensors).toBe(tensors); // each layer's upload is freed after it runs
    }
    // The golden expectations themselves, for the streamed model.
    const out = streamed.forward(inputValues, { attentionMask });
    expect(outputMismatches(namedOutputs(out), c)).toEqual({});
    tf.dispose(out as unknown as tf.TensorContainer);
    streamed.dispose();
    expect(tf.memory().numBytes).toBe(base);
    tf.dispose([inputValues, attentionMask]);
  });
});
