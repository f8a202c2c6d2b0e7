import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { UsageError } from '../../lib/errors';
import { createModel, frameLengths, loadModel, namedOutputs, receptiveField } from '../../lib/models';
import { loadModelDir } from '../../lib/weights';
import { GOLDEN, GOLDEN_MODELS } from '../helpers/fixtures';
import { GOLDEN_CASES, caseInputs, maxAbsDiff, outputMismatches, readCase } from '../helpers/golden';

const dir = (m: string) => path.join(GOLDEN, m);
const manifest = (m: string) => JSON.parse(fs.readFileSync(path.join(dir(m), 'manifest.json'), 'utf8'));

beforeAll(() => useBackend('wasm'));

describe('frameLengths', () => {
  it.each(GOLDEN_MODELS)('%s: gives the manifest valid_frames for every case', (m) => {
    const config = loadModelDir(dir(m)).config;
    for (const c of manifest(m).cases) expect(frameLengths(config, c.valid_samples)).toEqual(c.valid_frames);
  });

  it('receptiveField is the shortest input with one frame', () => {
    const config = loadModelDir(dir('wav2vec2_base_tiny')).config;
    const n = receptiveField(config);
    expect(frameLengths(config, [n - 1, n])).toEqual([0, 1]);
  });
});

describe('early exit (upToLayer)', () => {
  it.each([
    ['wav2vec2_large_tiny', 1], // stable layer norm: hidden_states_1 of 3 is not normalised
    ['wavlm_base_tiny', 2],
    ['hubert_base_tiny', 0],
    ['wavlm_large_tiny', 0], // not even layer 0's relative position embedding is needed
  ])('%s up to layer %d: hidden states 0..k match HF and the layers above never run', (m, k) => {
    // Hidden state k is the output of encoder.layers.{k−1}: the weights of encoder.layers.{k..} (and a stable model's
    // final norm) are left out, so touching them would throw "missing weight".
    const ckpt = loadModelDir(dir(m));
    for (const key of ckpt.weights.keys()) {
      const l = /^encoder\.layers\.(\d+)\./.exec(key);
      if ((l && Number(l[1]) >= k) || (ckpt.config.doStableLayerNorm && key.startsWith('encoder.layer_norm'))) ckpt.weights.delete(key);
    }
    const model = createModel(ckpt);
    const c = readCase(m, 'batch_padded');
    const { inputValues, attentionMask } = caseInputs(c);
    const out = model.forward(inputValues, { attentionMask, upToLayer: k });
    expect(out.hiddenStates).toHaveLength(k + 1);
    expect(out.lastHiddenState).toBeUndefined();
    const got = namedOutputs(out);
    const expected = new Map([...c].filter(([name]) => !/^(hidden_states_|last_hidden_state)/.test(name) || Number(name.slice(14)) <= k));
    expect(outputMismatches(got, expected)).toEqual({});
    expect([...got.keys()].filter((n) => n.startsWith('hidden_states_'))).toEqual(Array.from({ length: k + 1 }, (_, i) => `hidden_states_${i}`));
    const before = tf.memory().numTensors;
    expect(() => model.forward(inputValues, { attentionMask })).toThrow(new RegExp(`missing weight "encoder\\.layers\\.${k}\\.`));
    expect(tf.memory().numTensors).toBe(before); // a failed forward leaks nothing either
    tf.dispose([inputValues, attentionMask, out as unknown as tf.TensorContainer]);
    model.dispose();
  });

  it('rejects a layer outside 0..L', () => {
    const model = loadModel(dir('hubert_base_tiny'));
    const x = tf.zeros([1, 4000]) as tf.Tensor2D;
    expect(() => model.forward(x, { upToLayer: 3 })).toThrow(UsageError);
    expect(() => model.forward(x, { upToLayer: -1 })).toThrow(/upToLayer must be an integer in 0\.\.2/);
    tf.dispose(x);
    model.dispose();
  });
});

describe('outputs and memory', () => {
  it('lastHiddenState is its own handle: it survives disposing hiddenStates', () => {
    const model = loadModel(dir('wavlm_large_tiny'));
    const { inputValues } = caseInputs(readCase('wavlm_large_tiny', 'single_short'));
    const out = model.forward(inputValues);
    const last = out.hiddenStates[2].dataSync().slice();
    tf.dispose(out.hiddenStates);
    expect(maxAbsDiff(out.lastHiddenState!.dataSync(), last)).toBe(0);
    tf.dispose([inputValues, out as unknown as tf.TensorContainer]);
    model.dispose();
  });

  it('numTensors after 100 forward calls equals numTensors after 1, and dispose() frees every weight', () => {
    const start = tf.memory().numTensors;
    const model = loadModel(dir('wavlm_base_tiny')); // masks, WavLM bias, gating, grouped conv: most code paths
    const { inputValues } = caseInputs(readCase('wavlm_base_tiny', 'single_short'));
    const attentionMask = tf.ones(inputValues.shape) as tf.Tensor2D;
    const call = () =>
      tf.dispose(model.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true } }) as unknown as tf.TensorContainer);
    call();
    const afterOne = tf.memory().numTensors;
    for (let i = 0; i < 99; i++) call();
    expect(tf.memory().numTensors).toBe(afterOne);
    tf.dispose([inputValues, attentionMask]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('attentionEntropy: per layer [B, heads, T], between 0 and ln(valid keys) on valid query frames', () => {
    const m = 'wav2vec2_base_tiny';
    const model = loadModel(dir(m));
    const c = readCase(m, 'batch_padded');
    const { inputValues, attentionMask } = caseInputs(c);
    const out = model.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true } });
    const [B, T] = out.convFeatures.shape;
    const valid: number[] = manifest(m).cases.find((k: { file: string }) => k.file.includes('batch_padded')).valid_frames;
    expect(out.attentionEntropy).toHaveLength(model.config.numHiddenLayers);
    for (const e of out.attentionEntropy!) {
      expect(e.shape).toEqual([B, model.config.numAttentionHeads, T]);
      const d = e.dataSync();
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < e.shape[1]; h++) {
          for (let t = 0; t < valid[b]; t++) {
            const v = d[(b * e.shape[1] + h) * T + t];
            expect(v).toBeGreaterThanOrEqual(-1e-5);
            expect(v).toBeLessThanOrEqual(Math.log(valid[b]) + 1e-4);
          }
        }
      }
    }
    tf.dispose([inputValues, attentionMask, out as unknown as tf.TensorContainer]);
    model.dispose();
  });

  it('has one golden case list for every model (sanity of the fixture index)', () => {
    for (const m of GOLDEN_MODELS)
      expect(
        manifest(m)
          .cases.map((c: { file: string }) => path.basename(c.file, '.safetensors'))
          .sort(),
      ).toEqual([...GOLDEN_CASES].sort());
  });
});

describe('input checks', () => {
  it('rejects input shorter than the receptive field, a non-2-D input and a mismatched mask', () => {
    const model = loadModel(dir('wav2vec2_base_tiny'));
    const n = receptiveField(model.config);
    const short = tf.zeros([1, n - 1]) as tf.Tensor2D;
    const flat = tf.zeros([4000]) as unknown as tf.Tensor2D;
    const x = tf.zeros([2, 4000]) as tf.Tensor2D;
    const mask = tf.ones([1, 4000]) as tf.Tensor2D;
    expect(() => model.forward(short)).toThrow(new RegExp(`shorter than the model's receptive field \\(${n} samples\\)`));
    expect(() => model.forward(flat)).toThrow(/must be \[batch, samples\]/);
    expect(() => model.forward(x, { attentionMask: mask })).toThrow(/attention_mask shape \[1,4000\] does not match input_values \[2,4000\]/);
    tf.dispose([short, flat, x, mask]);
    model.dispose();
  });
});
