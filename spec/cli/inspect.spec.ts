import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { disposeOutput, loadModel } from '../../lib/models';
import { readSafetensorsHeader } from '../../lib/weights/safetensors';
import { kernelCka } from '../helpers/cka';
import { runCli } from '../helpers/cli';
import { GOLDEN } from '../helpers/fixtures';
import { caseFile, caseInputs, readCase } from '../helpers/golden';

const dir = (m: string) => path.join(GOLDEN, m);

/** Parameters in the checkpoint file itself, counted the forward pass's way (weight norm folded, training-only key out). */
function checkpointParameters(m: string): number {
  let n = 0;
  for (const [name, e] of readSafetensorsHeader(path.join(dir(m), 'model.safetensors')).entries) {
    if (name === 'masked_spec_embed' || name.endsWith('weight_g') || name.endsWith('original0')) continue;
    n += e.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

describe('wavprobe inspect', () => {
  it.each(['wav2vec2_base_tiny', 'wavlm_large_tiny'])('%s --json: architecture and parameter counts per block', async (m) => {
    const r = await runCli(['inspect', '--model', dir(m), '--json']);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    const config = JSON.parse(fs.readFileSync(path.join(dir(m), 'config.json'), 'utf8'));
    expect(j.architecture).toMatchObject({
      model_type: config.model_type,
      layers: config.num_hidden_layers,
      hidden_size: config.hidden_size,
      attention_heads: config.num_attention_heads,
    });
    const blocks = j.parameters.map((b: { block: string }) => b.block);
    expect(blocks).toEqual([
      'feature_extractor',
      'feature_projection',
      'encoder.pos_conv_embed',
      'encoder.layer_norm',
      ...Array.from({ length: config.num_hidden_layers }, (_, l) => `encoder.layers.${l}`),
    ]);
    expect(j.parameters.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(checkpointParameters(m));
    expect(j.layers).toBeUndefined();
  });

  it('--input: mean, std and frame norm of every hidden state over valid frames, attention entropy per head', async () => {
    const m = 'wavlm_base_tiny';
    const r = await runCli(['inspect', '--model', dir(m), '--input', caseFile(m, 'batch_padded'), '--json']);
    expect(r.exitCode).toBe(0);
    const { layers } = JSON.parse(r.stdout);
    const c = readCase(m, 'batch_padded');
    const mask = c.get('frame_attention_mask')!;
    const [B, T] = mask.shape;
    expect(layers).toHaveLength(4);
    for (const s of layers) {
      // Reference statistics from HF's expected tensor.
      const h = c.get(`hidden_states_${s.layer}`)!;
      const H = h.shape[2];
      let sum = 0,
        sq = 0,
        norms = 0,
        frames = 0;
      for (let f = 0; f < B * T; f++) {
        if (!mask.data[f]) continue;
        let fs2 = 0;
        for (let i = f * H; i < (f + 1) * H; i++) {
          sum += h.data[i];
          fs2 += h.data[i] ** 2;
        }
        sq += fs2;
        norms += Math.sqrt(fs2);
        frames++;
      }
      const mean = sum / (frames * H);
      expect(Math.abs(s.mean - mean)).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(s.std - Math.sqrt(sq / (frames * H) - mean * mean))).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(s.frameNorm - norms / frames)).toBeLessThanOrEqual(1e-4);
      if (s.layer === 0) expect(s.attentionEntropy).toBeUndefined();
      else {
        expect(s.attentionEntropy).toHaveLength(4);
        for (const e of s.attentionEntropy) expect(e > 0 && e <= Math.log(T)).toBe(true);
      }
    }
  });

  it('--input: layer_similarity is linear CKA between every pair of hidden states (valid frames of all rows)', async () => {
    const m = 'wav2vec2_base_tiny';
    const r = await runCli(['inspect', '--model', dir(m), '--input', caseFile(m, 'batch_padded'), '--json']);
    expect(r.exitCode).toBe(0);
    const got: number[][] = JSON.parse(r.stdout).layer_similarity;
    // Reference: forward's hidden states, valid frames gathered here, CKA in the kernel form (spec/helpers/cka.ts).
    const model = loadModel(dir(m));
    const { inputValues, attentionMask } = caseInputs(readCase(m, 'batch_padded'));
    const out = model.forward(inputValues, { attentionMask });
    const mask = out.frameMask!.dataSync();
    const states = out.hiddenStates.map((h) => {
      const H = h.shape[2];
      const x = h.dataSync();
      const rows: number[] = [];
      mask.forEach((v, f) => v && rows.push(...x.subarray(f * H, (f + 1) * H)));
      return { rows, H };
    });
    tf.dispose([inputValues, attentionMask!]);
    disposeOutput(out);
    model.dispose();
    expect(got).toHaveLength(states.length);
    let worst = 0;
    for (let a = 0; a < states.length; a++) {
      expect(got[a]).toHaveLength(states.length);
      for (let b = 0; b < states.length; b++) {
        worst = Math.max(worst, Math.abs(got[a][b] - kernelCka(states[a].rows, states[a].H, states[b].rows, states[b].H)));
        expect(got[a][b]).toBe(got[b][a]);
        expect(got[a][b] >= 0 && got[a][b] <= 1 + 1e-12).toBe(true);
      }
      expect(got[a][a]).toBeCloseTo(1, 12);
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('--plots: PNG + SVG of CKA, activations, attention entropy and maps, conv features, waveform', async () => {
    const m = 'wavlm_base_tiny';
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-inspect-'));
    try {
      const r = await runCli(['inspect', '--model', dir(m), '--input', caseFile(m, 'batch_padded'), '--plots', out, '--layer', '2', '--json']);
      expect(r.exitCode).toBe(0);
      const names = [
        'layer_similarity',
        'activations',
        'attention_entropy',
        'attention_layers',
        'attention_layer2_heads',
        'conv_features',
        'waveform',
      ];
      const files = names.flatMap((n) => [path.join(out, `${n}.png`), path.join(out, `${n}.svg`)]);
      expect(JSON.parse(r.stdout).plots).toEqual(files);
      for (const n of names) {
        const png = fs.readFileSync(path.join(out, `${n}.png`));
        expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        expect(png.subarray(12, 16).toString()).toBe('IHDR');
        expect(png.readUInt32BE(16)).toBeGreaterThan(300);
        expect(png.readUInt32BE(20)).toBeGreaterThan(200);
        const svg = fs.readFileSync(path.join(out, `${n}.svg`), 'utf8');
        expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
        expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      }
      expect(fs.readFileSync(path.join(out, 'attention_layer2_heads.svg'), 'utf8')).toContain('>head 3<');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('--no-similarity leaves layer_similarity out; --plots needs --input; --layer must be a layer', async () => {
    const plain = await runCli([
      'inspect',
      '--model',
      dir('hubert_base_tiny'),
      '--input',
      caseFile('hubert_base_tiny', 'single_short'),
      '--no-similarity',
      '--json',
    ]);
    expect(JSON.parse(plain.stdout).layer_similarity).toBeUndefined();
    expect((await runCli(['inspect', '--model', dir('hubert_base_tiny'), '--plots', os.tmpdir()])).exitCode).not.toBe(0);
    const r = await runCli([
      'inspect',
      '--model',
      dir('hubert_base_tiny'),
      '--input',
      caseFile('hubert_base_tiny', 'single_short'),
      '--plots',
      os.tmpdir(),
      '--layer',
      '3',
    ]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/--layer must be an integer in 1\.\.2/);
  });

  it('prints a readable summary without --json', async () => {
    const r = await runCli(['inspect', '--model', dir('hubert_base_tiny'), '--input', caseFile('hubert_base_tiny', 'single_short')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^model_type\s+hubert$/m);
    expect(r.stdout).toMatch(/^\s+encoder\.layers\.0\.\.1\s+[\d,]+ each$/m);
    expect(r.stdout).toMatch(/^\s+total\s+[\d,]+$/m);
    expect(r.stdout).toMatch(/^\s+2\s+-?\d+\.\d{4}\s+\d+\.\d{4}\s+\d+\.\d{4}\s+(\d\.\d\d ?){2}$/m);
  });
});
