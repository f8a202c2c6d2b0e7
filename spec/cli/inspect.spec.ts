import * as fs from 'fs';
import * as path from 'path';
import { readSafetensorsHeader } from '../../lib/weights/safetensors';
import { runCli } from '../helpers/cli';
import { GOLDEN } from '../helpers/fixtures';
import { caseFile, readCase } from '../helpers/golden';

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

  it('prints a readable summary without --json', async () => {
    const r = await runCli(['inspect', '--model', dir('hubert_base_tiny'), '--input', caseFile('hubert_base_tiny', 'single_short')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^model_type\s+hubert$/m);
    expect(r.stdout).toMatch(/^\s+encoder\.layers\.0\.\.1\s+[\d,]+ each$/m);
    expect(r.stdout).toMatch(/^\s+total\s+[\d,]+$/m);
    expect(r.stdout).toMatch(/^\s+2\s+-?\d+\.\d{4}\s+\d+\.\d{4}\s+\d+\.\d{4}\s+(\d\.\d\d ?){2}$/m);
  });
});
