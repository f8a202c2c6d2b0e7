import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../lib/weights/safetensors';
import { HostTensor } from '../../lib/weights/tensor';
import { runCli } from '../helpers/cli';
import { GOLDEN, GOLDEN_MODELS } from '../helpers/fixtures';
import { caseFile, expectedOutputNames, outputMismatches, readCase } from '../helpers/golden';

const nodeWav: { encode(channels: Float32Array[], opts: { sampleRate: number; float: boolean }): Buffer } = require('node-wav');

let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-forward-'))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The model directory `forward` reads: the HF golden checkpoint itself (`--model` takes HF directories). */
const modelDir = (m: string) => path.join(GOLDEN, m);

describe('wavprobe convert, then forward', () => {
  it.each(
    GOLDEN_MODELS.flatMap((m) => [
      [m, 'float32'],
      [m, 'float16'],
    ]),
  )('%s (%s store): the converted model reproduces every expected tensor of the single_long case', async (m, dtype) => {
    const store = path.join(tmp, `${m}-${dtype}`);
    const c = await runCli(['convert', modelDir(m), '--out', store, '--dtype', dtype]);
    expect(c.exitCode).toBe(0);
    const out = path.join(tmp, `${m}-${dtype}.safetensors`);
    const r = await runCli(['forward', '--model', store, '--input', caseFile(m, 'single_long'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const expected = readCase(m, 'single_long');
    const got = readSafetensors(out);
    expect([...got.keys()].sort()).toEqual(expectedOutputNames(expected));
    // float16 storage rounds every weight (relative 2^-11), so its outputs are held to a looser bound.
    expect(outputMismatches(got, expected, dtype === 'float16' ? 2e-2 : undefined)).toEqual({});
  });
});

describe('wavprobe forward', () => {
  it.each(GOLDEN_MODELS)('%s: a case file in, every expected tensor out (within 1e-4), named as in the case', async (m) => {
    const out = path.join(tmp, `${m}.safetensors`);
    const r = await runCli(['forward', '--model', modelDir(m), '--input', caseFile(m, 'batch_padded'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const expected = readCase(m, 'batch_padded');
    const got = readSafetensors(out);
    expect([...got.keys()].sort()).toEqual(expectedOutputNames(expected));
    expect(outputMismatches(got, expected)).toEqual({});
  });

  it('--layers 0..1 writes hidden_states_0..1 only and records the layer', async () => {
    const m = 'wav2vec2_large_tiny';
    const out = path.join(tmp, 'early.safetensors');
    const r = await runCli(['forward', '--model', modelDir(m), '--input', caseFile(m, 'single_short'), '--out', out, '--layers', '0..1']);
    expect(r.exitCode).toBe(0);
    const got = readSafetensors(out);
    expect([...got.keys()].sort()).toEqual(['conv_features', 'extract_features', 'hidden_states_0', 'hidden_states_1']);
    const expected = new Map([...readCase(m, 'single_short')].filter(([name]) => got.has(name) || name === 'input_values'));
    expect(outputMismatches(got, expected)).toEqual({});
    expect(readSafetensorsHeader(out).metadata.up_to_layer).toBe('1');
  });

  it('runs on the cpu backend too', async () => {
    const m = 'wavlm_large_tiny';
    const out = path.join(tmp, 'cpu.safetensors');
    const r = await runCli(['forward', '--backend', 'cpu', '--model', modelDir(m), '--input', caseFile(m, 'single_short'), '--out', out]);
    expect(r.exitCode).toBe(0);
    const expected = readCase(m, 'single_short');
    expect(outputMismatches(readSafetensors(out), expected)).toEqual({});
  });

  it('decodes and preprocesses audio: a WAV of one processor-case waveform gives that row of the case', async () => {
    // wav2vec2_large_tiny ("layer" conv norm, return_attention_mask): the unpadded row 1 alone equals row 1 of the batch.
    const m = 'wav2vec2_large_tiny';
    const c = readCase(m, 'processor');
    const wav = path.join(tmp, 'row1.wav');
    fs.writeFileSync(wav, nodeWav.encode([c.get('raw_audio_1')!.data], { sampleRate: 16000, float: true }));
    const out = path.join(tmp, 'audio.safetensors');
    const r = await runCli(['forward', '--model', modelDir(m), '--input', wav, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const row1 = new Map<string, HostTensor>();
    for (const name of expectedOutputNames(c)) {
      const t = c.get(name)!;
      const per = t.data.length / t.shape[0];
      row1.set(name, { shape: [1, ...t.shape.slice(1)], data: t.data.slice(per) });
    }
    const got = readSafetensors(out);
    expect([...got.keys()].sort()).toEqual(expectedOutputNames(c));
    expect(outputMismatches(got, row1)).toEqual({});
  });

  it('reports bad arguments and bad inputs on one line with exit code 1', async () => {
    const m = 'hubert_base_tiny';
    const out = path.join(tmp, 'never.safetensors');
    const layers = await runCli(['forward', '--model', modelDir(m), '--input', caseFile(m, 'single_short'), '--out', out, '--layers', '0..7']);
    expect(layers.exitCode).toBe(1);
    expect(layers.stderr).toBe('wavprobe forward: --layers "0..7": the model has layers 0..2\n');

    const noValues = path.join(tmp, 'no-values.safetensors');
    writeSafetensors(noValues, new Map([['x', { shape: [1], data: new Float32Array(1) }]]));
    const bad = await runCli(['forward', '--model', modelDir(m), '--input', noValues, '--out', out]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toBe(`wavprobe forward: ${noValues}: no "input_values" tensor\n`);

    const noDir = path.join(tmp, 'no-such-dir', 'x.safetensors');
    const outDir = await runCli(['forward', '--model', modelDir(m), '--input', caseFile(m, 'single_short'), '--out', noDir]);
    expect(outDir.exitCode).toBe(1);
    expect(outDir.stderr).toBe(`wavprobe forward: ${noDir}: output directory ${path.dirname(noDir)} does not exist\n`);

    const missing = await runCli(['forward', '--model', path.join(tmp, 'nope'), '--input', noValues, '--out', out]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(out)).toBe(false);
  });
});
