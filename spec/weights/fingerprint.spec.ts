import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { convert } from '../../lib/weights/convert';
import { loadModelDir, modelFingerprint } from '../../lib/weights';
import { randomWeights } from '../../lib/models/random';
import { WeightSet } from '../../lib/weights/tensor';
import { DEMO_CONFIG, DEMO_SEED } from '../../tools/make-demo-model';
import { cleanupTmp, copyGolden, goldenDir, tmpDir } from './helpers';

afterAll(cleanupTmp);

const DEMO = path.join(__dirname, '..', '..', 'weights', 'demo');
const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

/** The fingerprint as weights/README.md defines it, computed here independently of lib/weights. */
function documented(configJson: Buffer, weights: WeightSet): string {
  const h = crypto
    .createHash('sha256')
    .update(configJson)
    .update(Buffer.from([0]));
  for (const name of [...weights.keys()].sort()) {
    const t = weights.get(name)!;
    h.update(Buffer.from(`${name}\0${t.shape.join(',')}\0`));
    h.update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return `sha256:${h.digest('hex')}`;
}

describe('modelFingerprint', () => {
  it.each(['wav2vec2_base_tiny', 'wavlm_large_tiny'])(
    '%s: float16 and float32 stores, from safetensors or .bin, and the checkpoint directory agree',
    async (m) => {
      const fp = modelFingerprint(goldenDir(m));
      expect(fp).toMatch(FINGERPRINT);
      const ckpt = loadModelDir(goldenDir(m));
      expect(ckpt.fingerprint).toBe(fp);
      expect(fp).toBe(documented(fs.readFileSync(path.join(goldenDir(m), 'config.json')), ckpt.weights));
      for (const opts of [
        { dtype: 'float32' as const },
        { dtype: 'float16' as const },
        { dtype: 'float16' as const, weightFile: 'pytorch_model.bin' },
      ]) {
        const out = path.join(tmpDir(), 'store');
        await convert(goldenDir(m), out, opts);
        expect([opts, JSON.parse(fs.readFileSync(path.join(out, 'wavprobe.json'), 'utf8')).fingerprint]).toEqual([opts, fp]);
        expect([opts, modelFingerprint(out), loadModelDir(out).fingerprint]).toEqual([opts, fp, fp]);
      }
    },
  );

  it('differs between models, and with one changed weight or config byte', () => {
    const a = modelFingerprint(goldenDir('wav2vec2_base_tiny'));
    expect(modelFingerprint(goldenDir('hubert_base_tiny'))).not.toBe(a);
    const ckpt = loadModelDir(goldenDir('wav2vec2_base_tiny'));
    const config = fs.readFileSync(path.join(goldenDir('wav2vec2_base_tiny'), 'config.json'));
    ckpt.weights.get('encoder.layer_norm.bias')!.data[3] += 1e-6;
    expect(documented(config, ckpt.weights)).not.toBe(a);
    const spaced = copyGolden('wav2vec2_base_tiny', ['model.safetensors']);
    fs.appendFileSync(path.join(spaced, 'config.json'), ' ');
    expect(modelFingerprint(spaced)).not.toBe(a);
  });

  it('is null for a store written before fingerprints were recorded', async () => {
    const out = path.join(tmpDir(), 'store');
    await convert(goldenDir('hubert_base_tiny'), out);
    const info = JSON.parse(fs.readFileSync(path.join(out, 'wavprobe.json'), 'utf8'));
    delete info.fingerprint;
    fs.writeFileSync(path.join(out, 'wavprobe.json'), JSON.stringify(info));
    expect(modelFingerprint(out)).toBeNull();
    expect(loadModelDir(out).fingerprint).toBeNull();
    fs.writeFileSync(path.join(out, 'wavprobe.json'), JSON.stringify({ ...info, fingerprint: 'md5:x' }));
    expect(() => modelFingerprint(out)).toThrow(/"fingerprint" must be "sha256:" and 64 hex digits/);
  });

  it('computes a checkpoint directory once per process', () => {
    const dir = copyGolden('wavlm_base_tiny', ['model.safetensors']);
    const fp = modelFingerprint(dir);
    fs.writeFileSync(path.join(dir, 'model.safetensors'), 'no longer read');
    expect(modelFingerprint(dir)).toBe(fp);
  });

  it('the bundled demo store carries the fingerprint of the weights it was made from', () => {
    expect(modelFingerprint(DEMO)).toBe(documented(fs.readFileSync(path.join(DEMO, 'config.json')), randomWeights(DEMO_CONFIG, DEMO_SEED)));
  });
});
