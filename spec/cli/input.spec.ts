import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadAudio } from '../../lib/audio';
import { DataError } from '../../lib/errors';
import { loadModelInput } from '../../lib/cli/input';
import { preprocess } from '../../lib/models';
import { loadModelDir } from '../../lib/weights';
import { writeSafetensors } from '../../lib/weights/safetensors';
import { FIXTURES, GOLDEN } from '../helpers/fixtures';
import { caseFile, readCase } from '../helpers/golden';

const model = loadModelDir(path.join(GOLDEN, 'wavlm_large_tiny'));
let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-input-'))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const write = (name: string, tensors: Record<string, { shape: number[]; data: Float32Array }>) => {
  const file = path.join(tmp, name);
  writeSafetensors(file, new Map(Object.entries(tensors)));
  return file;
};

describe('loadModelInput', () => {
  it('feeds a case file as is: input_values and attention_mask untouched', async () => {
    const c = readCase('wavlm_large_tiny', 'batch_padded');
    const input = await loadModelInput(caseFile('wavlm_large_tiny', 'batch_padded'), model);
    expect([input.B, input.N]).toEqual(c.get('input_values')!.shape);
    expect(input.inputValues).toEqual(c.get('input_values')!.data);
    expect(input.attentionMask).toEqual(c.get('attention_mask')!.data);
  });

  it('takes a 1-D input_values as one row, without a mask', async () => {
    const input = await loadModelInput(write('flat.safetensors', { input_values: { shape: [500], data: new Float32Array(500).fill(0.25) } }), model);
    expect([input.B, input.N, input.attentionMask]).toEqual([1, 500, undefined]);
  });

  it('rejects a mask of another shape or with values other than 0/1, naming the file', async () => {
    const iv = { shape: [2, 500], data: new Float32Array(1000) };
    const shape = write('shape.safetensors', { input_values: iv, attention_mask: { shape: [1, 500], data: new Float32Array(500) } });
    await expect(loadModelInput(shape, model)).rejects.toThrow(new DataError('attention_mask is [1, 500] but input_values is [2, 500]', shape));
    const values = write('values.safetensors', { input_values: iv, attention_mask: { shape: [2, 500], data: new Float32Array(1000).fill(0.5) } });
    await expect(loadModelInput(values, model)).rejects.toThrow(/values\.safetensors: attention_mask holds values other than 0 and 1/);
  });

  it('decodes, resamples (8 kHz FLAC → 16 kHz) and preprocesses audio with the model preprocessor', async () => {
    const file = path.join(FIXTURES, 'audio', 'digit-8k.flac');
    const audio = await loadAudio(file, { sampleRate: 16000 });
    const want = preprocess([audio.samples], model.preprocessor);
    const got = await loadModelInput(file, model);
    expect([got.B, got.N]).toEqual([1, audio.samples.length]);
    expect(got.inputValues).toEqual(want.inputValues);
    expect(got.attentionMask).toEqual(want.attentionMask); // wavlm_large_tiny returns a mask
  });
});
