/**
 * Running the golden fixtures (spec/fixtures/golden) through the models, shared by the per-backend specs.
 * The checks run in `runGolden`, which returns plain results; the specs assert on them, one test per model × case.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, useBackend } from '../../lib/backend';
import { SpeechModel, loadModel, namedOutputs, preprocess } from '../../lib/models';
import { readSafetensors } from '../../lib/weights/safetensors';
import { HostTensor } from '../../lib/weights/tensor';
import { GOLDEN, GOLDEN_MODELS } from './fixtures';

export const GOLDEN_CASES = ['single_short', 'single_long', 'batch_padded', 'processor'];
export const TOLERANCE = 1e-4;
const INPUTS = new Set(['input_values', 'attention_mask']);

export const caseFile = (model: string, name: string) => path.join(GOLDEN, model, 'cases', `${name}.safetensors`);
export const readCase = (model: string, name: string) => readSafetensors(caseFile(model, name));

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Names of the expected outputs in a case file (everything but the inputs). */
export const expectedOutputNames = (c: Map<string, HostTensor>) => [...c.keys()].filter((k) => !INPUTS.has(k) && !k.startsWith('raw_audio')).sort();

/** Every expected output that is missing, misshapen or off by more than `tol`, with its error (frame mask: exact). */
export function outputMismatches(got: Map<string, HostTensor>, expected: Map<string, HostTensor>, tol = TOLERANCE): Record<string, string> {
  const bad: Record<string, string> = {};
  for (const name of expectedOutputNames(expected)) {
    const g = got.get(name);
    const e = expected.get(name)!;
    if (!g) bad[name] = 'missing';
    else if (JSON.stringify(g.shape) !== JSON.stringify(e.shape)) bad[name] = `shape ${JSON.stringify(g.shape)} ≠ ${JSON.stringify(e.shape)}`;
    else {
      const err = maxAbsDiff(g.data, e.data);
      if (!(err <= (name === 'frame_attention_mask' ? 0 : tol))) bad[name] = `max abs error ${err}`;
    }
  }
  return bad;
}

/** Model inputs of a case file as tensors (the mask only when the case has one). */
export function caseInputs(c: Map<string, HostTensor>): { inputValues: tf.Tensor2D; attentionMask?: tf.Tensor2D } {
  const iv = c.get('input_values')!;
  const am = c.get('attention_mask');
  return {
    inputValues: tf.tensor2d(iv.data, iv.shape as [number, number]),
    attentionMask: am && tf.tensor2d(am.data, am.shape as [number, number]),
  };
}

export interface CaseResult {
  outputs: string[]; // names the forward produced
  expected: string[]; // names in the case file
  mismatches: Record<string, string>;
  leakedTensors: number;
}

export interface PreprocessResult {
  shape: number[];
  expectedShape: number[];
  maxError: number;
  maskPresent: boolean;
  maskExpected: boolean;
  maskError: number;
}

export interface GoldenResults {
  cases: Record<string, CaseResult>; // by "<model>/<case>"
  preprocess: Record<string, PreprocessResult>; // by model
  tensorsAfterDispose: number;
}

function runCase(model: SpeechModel, m: string, name: string): CaseResult {
  const c = readCase(m, name);
  const before = tf.memory().numTensors;
  const { inputValues, attentionMask } = caseInputs(c);
  const out = model.forward(inputValues, { attentionMask });
  const got = namedOutputs(out);
  tf.dispose([inputValues, attentionMask, out as unknown as tf.TensorContainer]);
  return {
    outputs: [...got.keys()].sort(),
    expected: expectedOutputNames(c),
    mismatches: outputMismatches(got, c),
    leakedTensors: tf.memory().numTensors - before,
  };
}

function runPreprocess(model: SpeechModel, m: string): PreprocessResult {
  const c = readCase(m, 'processor');
  const pre = preprocess([c.get('raw_audio_0')!.data, c.get('raw_audio_1')!.data], model.preprocessor);
  const iv = c.get('input_values')!;
  const mask = c.get('attention_mask');
  return {
    shape: [pre.B, pre.N],
    expectedShape: iv.shape,
    maxError: maxAbsDiff(pre.inputValues, iv.data),
    maskPresent: !!pre.attentionMask,
    maskExpected: !!mask,
    maskError: pre.attentionMask && mask ? maxAbsDiff(pre.attentionMask, mask.data) : 0,
  };
}

/** Every model × case on one backend. */
export async function runGolden(backend: BackendName): Promise<GoldenResults> {
  await useBackend(backend);
  const results: GoldenResults = { cases: {}, preprocess: {}, tensorsAfterDispose: -1 };
  const before = tf.memory().numTensors;
  for (const m of GOLDEN_MODELS) {
    const model = loadModel(path.join(GOLDEN, m));
    for (const name of GOLDEN_CASES) results.cases[`${m}/${name}`] = runCase(model, m, name);
    results.preprocess[m] = runPreprocess(model, m);
    model.dispose();
  }
  results.tensorsAfterDispose = tf.memory().numTensors - before;
  return results;
}

/**
 * runGolden in a child Node process. The cpu backend's kernels are JS loops full of Math.* calls, which run ~10×
 * slower inside jest's vm context (each global lookup goes through the context's interceptors).
 */
export function runGoldenInChild(backend: BackendName): GoldenResults {
  const child = path.join(__dirname, 'golden-child.ts');
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), child, backend], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`golden child process failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** One test per model × case: every output tensor, padded frames included, within 1e-4 of HF's. */
export function describeGolden(backend: BackendName, opts: { inChild?: boolean } = {}): void {
  describe(`golden fixtures on ${backend}`, () => {
    let results: GoldenResults;
    beforeAll(async () => {
      results = opts.inChild ? runGoldenInChild(backend) : await runGolden(backend);
    });

    const table = GOLDEN_MODELS.flatMap((m) => GOLDEN_CASES.map((c) => [m, c]));
    it.each(table)('%s / %s matches HF within 1e-4', (m, name) => {
      const r = results.cases[`${m}/${name}`];
      expect(r.outputs).toEqual(r.expected);
      expect(r.mismatches).toEqual({});
      expect(r.leakedTensors).toBe(0);
    });

    it.each(GOLDEN_MODELS)('%s / processor: preprocessing raw_audio_* reproduces input_values within 1e-5', (m) => {
      const r = results.preprocess[m];
      expect(r.shape).toEqual(r.expectedShape);
      expect(r.maxError).toBeLessThanOrEqual(1e-5);
      expect(r.maskPresent).toBe(r.maskExpected);
      expect(r.maskError).toBe(0);
    });

    it('frees every tensor when the models are disposed', () => expect(results.tensorsAfterDispose).toBe(0));
  });
}
