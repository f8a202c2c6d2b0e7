import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError } from '../../lib/errors';
import { readSafetensors, readSafetensorsHeader, readShardedSafetensors, writeSafetensors } from '../../lib/weights/safetensors';
import { readStateDict } from '../../lib/weights/checkpoint';
import { WEIGHT_FIXTURES, bits, cleanupTmp, firstBitDiff, goldenDir, literal, tmpDir } from './helpers';

const GOLDEN_ST = path.join(goldenDir('wav2vec2_base_tiny'), 'model.safetensors');

/** A safetensors file from a raw JSON header and data bytes. */
function rawSafetensors(file: string, header: unknown, data: Uint8Array = new Uint8Array(0)): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

afterAll(cleanupTmp);

describe('safetensors header validation', () => {
  const bad = (header: unknown, data?: Uint8Array) => () => readSafetensors(rawSafetensors(path.join(tmpDir(), 'x.safetensors'), header, data));

  it('reads a golden file: every tensor F32 with its shape', () => {
    const { entries } = readSafetensorsHeader(GOLDEN_ST);
    expect(entries.get('feature_projection.projection.weight')).toMatchObject({ dtype: 'F32', shape: [32, 32] });
    expect(readSafetensors(GOLDEN_ST).size).toBe(entries.size);
  });

  it('rejects a truncated file, naming the file', () => {
    const f = path.join(tmpDir(), 'model.safetensors');
    const full = fs.readFileSync(GOLDEN_ST);
    fs.writeFileSync(f, full.subarray(0, full.length - 100));
    expect(() => readSafetensors(f)).toThrow(CheckpointError);
    expect(() => readSafetensors(f)).toThrow(new RegExp(`^${literal(f)}: .*past the end of the file.*truncated`));
    fs.writeFileSync(f, full.subarray(0, 5));
    expect(() => readSafetensors(f)).toThrow(/shorter than the 8-byte header length/);
  });

  it('rejects random bytes', () => {
    const f = path.join(tmpDir(), 'model.safetensors');
    fs.writeFileSync(f, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251)));
    expect(() => readSafetensors(f)).toThrow(/not a safetensors file or truncated/);
  });

  it('rejects a header that is not JSON or not an object', () => {
    expect(bad('{"a": ')).toThrow(/header is not valid JSON/);
    expect(bad('[1, 2]')).toThrow(/header is not a JSON object/);
  });

  it('rejects dtype × shape ≠ byte length, unknown dtypes, bad offsets', () => {
    expect(bad({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(24))).toThrow(
      /tensor "w": 20 bytes of data but F32\[2,3\] needs 24/,
    );
    expect(bad({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2))).toThrow(/tensor "w": unknown dtype "Q4"/);
    expect(bad({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, new Uint8Array(8))).toThrow(/tensor "w": bad data_offsets/);
    expect(bad({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))).toThrow(/tensor "w": bad shape/);
  });

  it('rejects overlapping tensors', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expect(bad(h, new Uint8Array(12))).toThrow(/tensors "a" and "b" overlap/);
  });

  // Issue 14, class 11: JSON.parse keeps the last of two equal keys; another reader may take the first.
  it('rejects duplicate keys anywhere in the header', () => {
    const w = '{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}';
    expect(bad(`{"w": ${w}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}`, new Uint8Array(8))).toThrow(
      /header has the key "w" twice/,
    );
    expect(bad(`{"w": {"dtype": "F16", "dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}`, new Uint8Array(4))).toThrow(
      /header has the key "dtype" twice/,
    );
    expect(bad(`{"\\u0077": ${w}, "w": ${w}}`, new Uint8Array(4))).toThrow(/header has the key "w" twice/); // the same key, escaped
    const ok = `{"w": ${w}, "__metadata__": {"w": "a \\"w\\": 1, \\"w\\": 2"}}`; // "w" again, but one level down and inside a string
    expect(readSafetensors(rawSafetensors(path.join(tmpDir(), 'ok.safetensors'), ok, new Uint8Array(4))).size).toBe(1);
  });

  it('refuses a header nested deeper than 8 levels before parsing it', () => {
    const t0 = Date.now();
    expect(bad(`{"w": ${'['.repeat(5e6)}${']'.repeat(5e6)}}`)).toThrow(/header nests deeper than 8 levels/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('rejects __metadata__ that is not an object of strings', () => {
    expect(bad({ __metadata__: { format: 1 } })).toThrow(/"__metadata__" must be an object of strings/);
  });

  it('rejects integer tensors it is asked to read', () => {
    expect(bad({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))).toThrow(/dtype I64; only F32, F16 and BF16/);
  });
});

describe('safetensors over 4 GiB', () => {
  // A sparse file: a 5 GiB tensor that is never read, then a small one past it, read by position through the handle.
  (process.platform === 'win32' ? it.skip : it)('reads a tensor beyond 4 GiB without loading the file', () => {
    const big = 5 * 2 ** 30;
    const f = rawSafetensors(path.join(tmpDir(), 'big.safetensors'), {
      huge: { dtype: 'U8', shape: [big], data_offsets: [0, big] },
      w: { dtype: 'F32', shape: [2], data_offsets: [big, big + 8] },
    });
    const headerEnd = fs.statSync(f).size;
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, new Uint8Array(new Float32Array([0.25, -8]).buffer), 0, 8, headerEnd + big);
    fs.closeSync(fd);
    expect([...readSafetensors(f, (n) => n === 'w').get('w')!.data]).toEqual([0.25, -8]);
  });
});

describe('safetensors F16 / BF16', () => {
  it('decodes F16 and BF16 tensors (written by numpy) exactly', () => {
    const cases = JSON.parse(fs.readFileSync(path.join(WEIGHT_FIXTURES, 'float16_cases.json'), 'utf8')) as Record<string, number[]>;
    const t = readSafetensors(path.join(WEIGHT_FIXTURES, 'halves.safetensors'));
    const f16 = bits(t.get('f16')!.data);
    const nan = (b: number) => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;
    cases.f16_as_f32_bits.forEach((b, i) => expect(nan(b) ? nan(f16[i]) : f16[i] === b).toBe(true));
    expect([...bits(t.get('bf16')!.data)]).toEqual(cases.bf16_as_f32_bits);
  });

  it('writes F16 and BF16 bits that read back as the same values', () => {
    const f = path.join(tmpDir(), 'h.safetensors');
    const halves = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff]); // 1, -2, 2^-24, 65504
    const bf = new Uint16Array([0x3f80, 0xc040, 0x0000, 0x4049]); // 1, -3, 0, 3.140625
    writeSafetensors(
      f,
      new Map([
        ['h', { shape: [2, 2], data: halves, dtype: 'F16' as const }],
        ['b', { shape: [4], data: bf, dtype: 'BF16' as const }],
      ]),
    );
    const t = readSafetensors(f);
    expect([...t.get('h')!.data]).toEqual([1, -2, 2 ** -24, 65504]);
    expect(t.get('h')!.shape).toEqual([2, 2]);
    expect([...t.get('b')!.data]).toEqual([1, -3, 0, 3.140625]);
  });
});

describe('sharded safetensors', () => {
  /** Splits the golden file into two shards + model.safetensors.index.json. */
  function split(dir: string): Map<string, string> {
    const all = readSafetensors(GOLDEN_ST);
    const names = [...all.keys()];
    const map = new Map(names.map((n, i) => [n, i < names.length / 2 ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    for (const shard of new Set(map.values())) {
      writeSafetensors(path.join(dir, shard), new Map(names.filter((n) => map.get(n) === shard).map((n) => [n, all.get(n)!])));
    }
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: Object.fromEntries(map) }));
    return map;
  }

  it('reads every tensor of both shards, bit-exact', () => {
    const dir = tmpDir();
    split(dir);
    const want = readSafetensors(GOLDEN_ST);
    for (const got of [
      readShardedSafetensors(path.join(dir, 'model.safetensors.index.json')),
      readStateDict(path.join(dir, 'model.safetensors.index.json')),
    ]) {
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, t] of want) {
        expect(got.get(k)!.shape).toEqual(t.shape);
        expect([k, firstBitDiff(got.get(k)!.data, t.data)]).toEqual([k, -1]);
      }
    }
  });

  it('names the index when a shard is missing or lacks a tensor, and rejects shard paths', () => {
    const dir = tmpDir();
    const index = path.join(dir, 'model.safetensors.index.json');
    split(dir);
    fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
    expect(() => readShardedSafetensors(index)).toThrow(
      new RegExp(`^${literal(index)}: shard model-00002-of-00002.safetensors named by the index is missing`),
    );
    split(dir);
    const j = JSON.parse(fs.readFileSync(index, 'utf8'));
    j.weight_map['encoder.layer_norm.bias'] = j.weight_map['encoder.layer_norm.bias'].includes('00001')
      ? 'model-00002-of-00002.safetensors'
      : 'model-00001-of-00002.safetensors';
    fs.writeFileSync(index, JSON.stringify(j));
    expect(() => readShardedSafetensors(index)).toThrow(
      /index says "encoder.layer_norm.bias" is in model-0000\d-of-00002.safetensors, but it is not there/,
    );
    fs.writeFileSync(index, JSON.stringify({ weight_map: { a: '../evil.safetensors' } }));
    expect(() => readShardedSafetensors(index)).toThrow(/bad shard file for "a"/);
    fs.writeFileSync(index, '{}');
    expect(() => readShardedSafetensors(index)).toThrow(/no "weight_map"/);
  });
});
