import * as fs from 'fs';
import * as path from 'path';
import { zipSync } from 'fflate';
import { readCheckpoint, readStateDict } from '../../lib/weights/checkpoint';
import { readSafetensors } from '../../lib/weights/safetensors';
import { HostTensor } from '../../lib/weights/tensor';
import { readTorchZip } from '../../lib/weights/torch';
import { closeZip, openZip } from '../../lib/weights/zip';
import {
  BIN_MODELS,
  cleanupTmp,
  copyGolden,
  errorOf,
  firstBitDiff,
  goldenDir,
  literal,
  PickledTensor,
  tmpDir,
  torchPickle,
  WEIGHT_FIXTURES,
  writeTorchBin,
  writeZip,
  zipEntries,
} from './helpers';

afterAll(cleanupTmp);

const goldenBin = (m: string) => path.join(goldenDir(m), 'pytorch_model.bin');
const expectSame = (got: Map<string, HostTensor>, want: Map<string, HostTensor>) => {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, t] of want) {
    expect([k, got.get(k)!.shape]).toEqual([k, t.shape]);
    expect([k, firstBitDiff(got.get(k)!.data, t.data)]).toEqual([k, -1]);
  }
};
/** The golden zip's entries, changed by `edit`, written to a temp file with writeZip. */
function repack(m: string, edit: (entries: [string, Uint8Array][]) => [string, Uint8Array][], opts?: { zip64?: boolean }): string {
  const f = path.join(tmpDir(), 'pytorch_model.bin');
  writeZip(f, edit(zipEntries(goldenBin(m))), opts);
  return f;
}
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const str = (s: string) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(s.length);
  return `X${b.toString('latin1')}${s}`;
};
/** A protocol-2 data.pkl with one tensor "w" of `size`/`stride` on FloatStorage "0" holding `numel` elements. */
const tensorPickle = (numel: number, size: number, stride: number, offset = 0) =>
  ascii(
    `\x80\x02}(${str('w')}ctorch._utils\n_rebuild_tensor_v2\n((${str('storage')}ctorch\nFloatStorage\n${str('0')}${str('cpu')}K${String.fromCharCode(numel)}tQ` +
      `K${String.fromCharCode(offset)}K${String.fromCharCode(size)}\x85K${String.fromCharCode(stride)}\x85\x89ccollections\nOrderedDict\n)RtRu.`,
  );

describe('readTorchZip on the golden checkpoints', () => {
  it.each(BIN_MODELS)('%s: pytorch_model.bin holds exactly model.safetensors, bit-exact', (m) => {
    expectSame(readTorchZip(goldenBin(m)), readSafetensors(path.join(goldenDir(m), 'model.safetensors')));
  });

  it('reads only the names `keep` selects', () => {
    const got = readTorchZip(goldenBin('hubert_base_tiny'), (n) => n.startsWith('encoder.layers.1.'));
    expect(got.size).toBeGreaterThan(0);
    expect([...got.keys()].every((n) => n.startsWith('encoder.layers.1.'))).toBe(true);
  });
});

describe('readTorchZip: torch.save variants', () => {
  const expected = readSafetensors(path.join(WEIGHT_FIXTURES, 'strided_expected.safetensors'));

  it.each(['strided_p2.bin', 'strided_p4.bin'])('%s: strided views, offsets, Half/BFloat16 storages, parameters (vs numpy as_strided)', (f) => {
    expectSame(readTorchZip(path.join(WEIGHT_FIXTURES, f)), expected);
  });

  it('finds the data.pkl folder whatever it is called (archive/, anything/)', () => {
    const want = readTorchZip(goldenBin('wav2vec2_base_tiny'));
    const renamed = repack('wav2vec2_base_tiny', (es) => es.map(([n, d]) => [n.replace(/^pytorch_model\//, 'archive/'), d]));
    expectSame(readTorchZip(renamed), want);
  });

  it('reads a ZIP64 container and DEFLATE-compressed entries', () => {
    const want = readTorchZip(goldenBin('wavlm_large_tiny'));
    expectSame(readTorchZip(repack('wavlm_large_tiny', (es) => es, { zip64: true })), want);
    const deflated = path.join(tmpDir(), 'pytorch_model.bin');
    fs.writeFileSync(deflated, zipSync(Object.fromEntries(zipEntries(goldenBin('wavlm_large_tiny')).map(([n, d]) => [n, [d, { level: 6 }]]))));
    expectSame(readTorchZip(deflated), want);
  });

  // A 5 GiB sparse file: the storage sits past 4 GiB, reachable only through ZIP64 offsets and positional reads.
  (process.platform === 'win32' ? it.skip : it)('reads a checkpoint over 4 GiB through the file handle (ZIP64, sparse file)', () => {
    const f = path.join(tmpDir(), 'pytorch_model.bin');
    const data = new Float32Array([1.5, -2, 3.25, 7]);
    writeZip(
      f,
      [
        ['archive/data.pkl', tensorPickle(4, 3, 1, 1)],
        ['archive/data/0', new Uint8Array(data.buffer)],
      ],
      { zip64: true, holeBeforeLast: 5 * 2 ** 30 },
    );
    expect(fs.statSync(f).size).toBeGreaterThan(5 * 2 ** 30);
    expect([...readTorchZip(f).get('w')!.data]).toEqual([-2, 3.25, 7]);
  });

  it('reads a sharded checkpoint through pytorch_model.bin.index.json', () => {
    const d = tmpDir();
    const want = readSafetensors(path.join(goldenDir('hubert_base_tiny'), 'model.safetensors'));
    const names = [...want.keys()];
    const map = Object.fromEntries(names.map((n, i) => [n, i % 2 ? 'pytorch_model-00002-of-00002.bin' : 'pytorch_model-00001-of-00002.bin']));
    for (const s of new Set(Object.values(map))) fs.copyFileSync(goldenBin('hubert_base_tiny'), path.join(d, s)); // each shard holds more than the index gives it
    fs.writeFileSync(path.join(d, 'pytorch_model.bin.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
    expectSame(readStateDict(path.join(d, 'pytorch_model.bin.index.json')), want);
    expectSame(readStateDict(goldenBin('hubert_base_tiny')), want);
  });
});

describe('readTorchZip: what is not a checkpoint', () => {
  it('a zip without <folder>/data.pkl', () => {
    const f = path.join(tmpDir(), 'pytorch_model.bin');
    fs.writeFileSync(f, zipSync({ 'notes.txt': ascii('hello') }));
    expect(errorOf(() => readTorchZip(f))).toBe(`${f}: not a PyTorch checkpoint: the zip has no <folder>/data.pkl`);
    fs.writeFileSync(f, zipSync({ 'a/data.pkl': ascii('.'), 'b/data.pkl': ascii('.') }));
    expect(errorOf(() => readTorchZip(f))).toMatch(/has 2 data.pkl files/);
  });

  it('random bytes and the legacy (torch < 1.6) format', () => {
    const f = path.join(tmpDir(), 'pytorch_model.bin');
    fs.writeFileSync(f, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 251)));
    expect(errorOf(() => readTorchZip(f))).toMatch(new RegExp(`^${literal(f)}: not a zip file`));
    fs.writeFileSync(f, Buffer.from('80028a0a6cfc9c46f9206aa8501900000000', 'hex'));
    expect(errorOf(() => readTorchZip(f))).toMatch(/legacy \(torch < 1.6\) checkpoint format is not supported/);
  });

  it('a data.pkl that references a foreign global (os.system, builtins.eval)', () => {
    const osSystem = ascii(`\x80\x02}(${str('w')}cos\nsystem\n${str('echo pwned')}\x85Ru.`);
    const f = repack('hubert_base_tiny', (es) => es.map(([n, d]) => [n, n.endsWith('data.pkl') ? osSystem : d]));
    expect(errorOf(() => readTorchZip(f))).toMatch(new RegExp(`^${literal(f)}: pytorch_model/data.pkl: refusing global os.system`));
    const evalP4 = ascii(`\x80\x04\x8c\x08builtins\x8c\x04eval\x93${str('1')}\x85R.`);
    const g = repack('hubert_base_tiny', (es) => es.map(([n, d]) => [n, n.endsWith('data.pkl') ? evalP4 : d]));
    expect(errorOf(() => readTorchZip(g))).toMatch(/refusing global builtins.eval/);
  });

  it('storages that are missing, the wrong size, or too short for the view', () => {
    const noStorage = repack('hubert_base_tiny', (es) => es.filter(([n]) => n !== 'pytorch_model/data/0'));
    expect(errorOf(() => readTorchZip(noStorage))).toMatch(/storage "0" has no entry pytorch_model\/data\/0/);
    const short = repack('hubert_base_tiny', (es) => es.map(([n, d]) => [n, n === 'pytorch_model/data/3' ? d.subarray(4) : d]));
    expect(errorOf(() => readTorchZip(short))).toMatch(/storage "3" holds \d+ bytes, but \d+ FloatStorage elements need \d+/);
    const f = path.join(tmpDir(), 'pytorch_model.bin');
    writeZip(f, [
      ['archive/data.pkl', tensorPickle(4, 3, 1)],
      ['archive/data/0', new Uint8Array(16)],
    ]);
    expect(readTorchZip(f).get('w')!.shape).toEqual([3]);
    writeZip(f, [
      ['archive/data.pkl', tensorPickle(4, 3, 1, 2)],
      ['archive/data/0', new Uint8Array(16)],
    ]);
    expect(errorOf(() => readTorchZip(f))).toMatch(/tensor "w" reaches element 4 of storage "0", which has 4/);
    writeZip(f, [
      ['archive/data.pkl', tensorPickle(4, 3, 2)],
      ['archive/data/0', new Uint8Array(16)],
    ]);
    expect(errorOf(() => readTorchZip(f))).toMatch(/tensor "w" reaches element 4/);
  });

  it('a pickle that is not a dict of tensors, or big-endian data', () => {
    const f = path.join(tmpDir(), 'pytorch_model.bin');
    writeZip(f, [['archive/data.pkl', ascii(`\x80\x02]K\x01a.`)]]);
    expect(errorOf(() => readTorchZip(f))).toMatch(/not a state dict/);
    writeZip(f, [['archive/data.pkl', ascii(`\x80\x02}(${str('w')}K\x01u.`)]]);
    expect(errorOf(() => readTorchZip(f))).toMatch(/archive\/data.pkl: "w" is not a tensor/);
    writeZip(f, [
      ['archive/data.pkl', tensorPickle(4, 3, 1)],
      ['archive/data/0', new Uint8Array(16)],
      ['archive/byteorder', ascii('big')],
    ]);
    expect(errorOf(() => readTorchZip(f))).toMatch(/big-endian checkpoint is not supported/);
  });
});

// Issue 14, class 6: files built to exhaust memory, time or the stack get a CheckpointError, quickly.
describe('readTorchZip: hostile files', () => {
  /** The CheckpointError `f` throws, which must come within `ms`. */
  const quickError = (f: () => unknown, ms = 3000): string => {
    const t0 = Date.now();
    const msg = errorOf(f);
    expect(Date.now() - t0).toBeLessThan(ms);
    return msg;
  };
  const bin = (pkl: Uint8Array, storage = new Uint8Array(4)) => {
    const f = path.join(tmpDir(), 'pytorch_model.bin');
    writeZip(f, [
      ['archive/data.pkl', pkl],
      ['archive/data/0', storage],
    ]);
    return f;
  };

  it('a 1 KB file of 20000×20000 stride-0 views: refused before anything is allocated', () => {
    const f = bin(torchPickle(['a', 'b'].map((name) => ({ name, storage: '0', numel: 1, shape: [20000, 20000], stride: [0, 0] }))));
    expect(fs.statSync(f).size).toBeLessThan(1024);
    expect(quickError(() => readTorchZip(f))).toMatch(/tensor "a" has shape \[20000,20000\]: more than 268435456 values/);
  });

  it('views may repeat stored values (broadcasts, overlaps) by at most 16 Mi values in all', () => {
    const views = Array.from({ length: 8 }, (_, i) => ({ name: `w${i}`, storage: '0', numel: 1, shape: [4096, 1024], stride: [0, 0] }));
    expect(quickError(() => readTorchZip(bin(torchPickle(views))))).toMatch(/views expand 1 stored values to 33554432/);
    expect(readTorchZip(bin(torchPickle(views.slice(0, 1)))).get('w0')!.data.length).toBe(4096 * 1024); // one broadcast is fine
  });

  it('dimensions, strides and offsets that are not small non-negative integers', () => {
    const one = (t: Partial<PickledTensor>) => bin(torchPickle([{ name: 'w', storage: '0', numel: 1, shape: [1], ...t }]));
    for (const t of [
      { shape: [1e300] },
      { shape: [1e300], stride: [0] },
      { shape: [-1] },
      { shape: [1.5] },
      { shape: [0, 1e300] },
      { shape: [1], stride: [2 ** 60] },
      { offset: -1 },
    ]) {
      expect([t, quickError(() => readTorchZip(one(t)))]).toEqual([t, expect.stringMatching(/_rebuild_tensor_v2 with a bad offset, size or stride/)]);
    }
  });

  it('a cyclic persistent id and a 200000-deep one', () => {
    expect(quickError(() => readTorchZip(bin(ascii('\x80\x02]q\x00h\x00aQ.'))))).toMatch(
      /archive\/data.pkl: a list or dict is changed after being put inside another/,
    );
    const deep = ascii(`\x80\x02${'('.repeat(200000)}${'l'.repeat(200000)}Q.`);
    expect(quickError(() => readTorchZip(bin(deep)))).toMatch(/archive\/data.pkl: values nested more than 100 deep/);
  });

  it('a compressed storage is inflated once, however many tensors view it', () => {
    const views = Array.from({ length: 300 }, (_, i) => ({ name: `w${i}`, storage: '0', numel: 2 ** 23, offset: i, shape: [1] }));
    const f = path.join(tmpDir(), 'pytorch_model.bin');
    fs.writeFileSync(f, zipSync({ 'archive/data.pkl': torchPickle(views), 'archive/data/0': [new Uint8Array(2 ** 25), { level: 6 }] }));
    const t0 = Date.now();
    expect(readTorchZip(f).size).toBe(300);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('checks every tensor against config.json before reading any storage', () => {
    const dir = copyGolden('wav2vec2_base_tiny');
    const f = path.join(dir, 'pytorch_model.bin');
    const key = 'encoder.layers.1.attention.k_proj.weight';
    const entries = writeTorchBin(f, readSafetensors(path.join(goldenDir('wav2vec2_base_tiny'), 'model.safetensors')), {
      [key]: { shape: [4096, 4096], stride: [0, 0] },
    });
    // Every storage made unreadable (a corrupt DEFLATE block type): reading any of them would be a different error.
    fs.writeFileSync(f, zipSync(Object.fromEntries(entries.map(([n, d]) => [n, [d, { level: n.endsWith('data.pkl') ? 0 : 1 }]]))));
    const zip = openZip(f);
    const bytes = fs.readFileSync(f);
    for (const e of zip.entries.values()) if (e.name.includes('/data/')) bytes[e.dataOffset] = 0xff;
    closeZip(zip);
    fs.writeFileSync(f, bytes);
    expect(quickError(() => readCheckpoint(dir))).toBe(`${f}: key "${key}" has shape [4096,4096], expected [32,32] from config.json`);
  });
});
