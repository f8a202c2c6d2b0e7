import * as fs from 'fs';
import * as path from 'path';
import { zipSync } from 'fflate';
import { readStore } from '../../lib/weights/store';
import { readSafetensors, writeSafetensors } from '../../lib/weights/safetensors';
import { runCli } from '../helpers/cli';
import { FakeHub, startFakeHub } from '../weights/fakehub';
import { cleanupTmp, copyGolden, firstBitDiff, goldenDir, tmpDir, writeZip, zipEntries } from '../weights/helpers';

/** `wavprobe …` in-process, as {code, stdout, stderr}. */
const cli = async (...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  const r = await runCli(argv);
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
};

/** The out dir and any `<out>.tmp-*` beside it. */
const leftovers = (out: string) =>
  fs.readdirSync(path.dirname(out)).filter((n) => n === path.basename(out) || n.startsWith(`${path.basename(out)}.tmp-`));

afterAll(cleanupTmp);

describe('wavprobe convert: success', () => {
  it('converts a golden checkpoint (float16) and prints one summary line', async () => {
    const out = path.join(tmpDir(), 'w2v');
    const r = await cli('convert', goldenDir('wav2vec2_base_tiny'), '--out', out, '--dtype', 'float16');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(
      new RegExp(`^${out}: wav2vec2, 45 tensors, \\d+ parameters, float16, [\\d.]+ MB \\(from .*wav2vec2_base_tiny, model.safetensors\\)\\n$`),
    );
    expect(readStore(out, { verify: true }).weights.size).toBe(45);
  });

  it('reads pytorch_model.bin with --weight-file, to the same store as from model.safetensors', async () => {
    const fromBin = path.join(tmpDir(), 'bin');
    const fromSt = path.join(tmpDir(), 'st');
    expect((await cli('convert', goldenDir('wavlm_large_tiny'), '--out', fromBin, '--weight-file', 'pytorch_model.bin')).code).toBe(0);
    expect((await cli('convert', goldenDir('wavlm_large_tiny'), '--out', fromSt)).code).toBe(0);
    const a = readStore(fromBin);
    for (const [k, t] of readStore(fromSt).weights) expect([k, firstBitDiff(a.weights.get(k)!.data, t.data)]).toEqual([k, -1]);
  });

  describe('from a hub id (local fake hub via HF_ENDPOINT, cache via WAVPROBE_CACHE)', () => {
    let hub: FakeHub;
    const saved = { e: process.env.HF_ENDPOINT, c: process.env.WAVPROBE_CACHE };
    beforeAll(async () => {
      const files = Object.fromEntries(
        ['config.json', 'preprocessor_config.json', 'model.safetensors'].map((f) => [f, path.join(goldenDir('hubert_base_tiny'), f)]),
      );
      hub = await startFakeHub({ repos: { 'org/hubert@v2': { files } } });
      process.env.HF_ENDPOINT = hub.endpoint;
      process.env.WAVPROBE_CACHE = tmpDir();
    });
    afterAll(async () => {
      await hub.close();
      for (const [k, v] of [
        ['HF_ENDPOINT', saved.e],
        ['WAVPROBE_CACHE', saved.c],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it('downloads, converts and records the hub id as the source', async () => {
      const out = path.join(tmpDir(), 'hub');
      const r = await cli('convert', 'org/hubert@v2', '--out', out);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/\(from org\/hubert@v2, model.safetensors\)/);
      expect(JSON.parse(fs.readFileSync(path.join(out, 'wavprobe.json'), 'utf8')).source).toBe('org/hubert@v2');
    });

    it('a missing hub repository is one line and no output', async () => {
      const out = path.join(tmpDir(), 'none');
      const r = await cli('convert', 'org/absent', '--out', out);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toBe(
        `wavprobe convert: ${hub.endpoint}/org/absent/resolve/main/config.json: HTTP 404: no such repository or revision, or it has no config.json\n`,
      );
      expect(leftovers(out)).toEqual([]);
    });
  });
});

describe('wavprobe convert: corrupt input is one line naming the file, exit ≠ 0, nothing left behind', () => {
  const GOLD = 'hubert_base_tiny';
  /** A checkpoint dir with `weightFile` written by `make(file)`; returns the weight file path. */
  const broken = (weightFile: string, make: (file: string) => void): { dir: string; file: string } => {
    const dir = copyGolden(GOLD);
    const file = path.join(dir, weightFile);
    make(file);
    return { dir, file };
  };
  const repackBin = (file: string, pkl: Uint8Array) =>
    writeZip(
      file,
      zipEntries(path.join(goldenDir(GOLD), 'pytorch_model.bin')).map(([n, d]) => [n, n.endsWith('/data.pkl') ? pkl : d]),
    );
  const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
  const full = fs.readFileSync(path.join(goldenDir(GOLD), 'model.safetensors'));

  const CASES: [string, string, (f: string) => void, RegExp][] = [
    [
      'truncated safetensors',
      'model.safetensors',
      (f) => fs.writeFileSync(f, full.subarray(0, full.length >> 1)),
      /past the end of the file .*truncated/,
    ],
    [
      'random bytes as safetensors',
      'model.safetensors',
      (f) => fs.writeFileSync(f, Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7919 + 3) % 256))),
      /not a safetensors file or truncated/,
    ],
    [
      'a bad safetensors header',
      'model.safetensors',
      (f) => fs.writeFileSync(f, Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"w": {"dtype": ')])),
      /header is not valid JSON/,
    ],
    ['random bytes as pytorch_model.bin', 'pytorch_model.bin', (f) => fs.writeFileSync(f, Buffer.alloc(5000, 0x42)), /not a zip file/],
    [
      'a zip that is not a checkpoint',
      'pytorch_model.bin',
      (f) => fs.writeFileSync(f, zipSync({ 'readme.txt': ascii('not weights') })),
      /not a PyTorch checkpoint: the zip has no <folder>\/data.pkl/,
    ],
    [
      'a pickle referencing os.system',
      'pytorch_model.bin',
      (f) => repackBin(f, ascii('\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.')),
      /data.pkl: refusing global os.system/,
    ],
    [
      'a pickle referencing builtins.eval',
      'pytorch_model.bin',
      (f) => repackBin(f, ascii('\x80\x04\x8c\x08builtins\x8c\x04eval\x93X\x01\x00\x00\x001\x85R.')),
      /data.pkl: refusing global builtins.eval/,
    ],
    [
      'a missing key',
      'model.safetensors',
      (f) => {
        const t = readSafetensors(path.join(goldenDir(GOLD), 'model.safetensors'));
        t.delete('encoder.layers.0.attention.v_proj.weight');
        writeSafetensors(f, t);
      },
      /missing key "encoder.layers.0.attention.v_proj.weight"/,
    ],
  ];

  it.each(CASES)('%s', async (_what, weightFile, make, reason) => {
    const { dir, file } = broken(weightFile, make);
    const out = path.join(tmpDir(), 'store');
    const r = await cli('convert', dir, '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^wavprobe convert: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `)),
      '',
    ]);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(leftovers(out)).toEqual([]);
  });

  it('an unsupported config names config.json and the field', async () => {
    const dir = copyGolden(GOLD, ['model.safetensors']);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, conv_pos_batch_norm: true }));
    const out = path.join(tmpDir(), 'store');
    const r = await cli('convert', dir, '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(
      `wavprobe convert: ${path.join(dir, 'config.json')}: unsupported feature: "conv_pos_batch_norm" is true (batch-norm positional conv is not implemented)\n`,
    );
    expect(leftovers(out)).toEqual([]);
  });
});
