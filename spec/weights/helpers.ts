/** Helpers for the weight specs: temp dirs, a tiny independent zip writer (incl. ZIP64), golden references. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CheckpointError } from '../../lib/errors';
import { readSafetensors, writeSafetensors } from '../../lib/weights/safetensors';
import type { HostTensor } from '../../lib/weights/tensor';
import { unzipSync } from 'fflate';
import { FIXTURES, GOLDEN } from '../helpers/fixtures';

export const WEIGHT_FIXTURES = path.join(FIXTURES, 'weights');
export const BIN_MODELS = ['wav2vec2_base_tiny', 'hubert_base_tiny', 'wavlm_large_tiny'];
export const goldenDir = (model: string): string => path.join(GOLDEN, model);

const made: string[] = [];
/** A fresh temp directory, removed by cleanupTmp(). */
export function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-weights-'));
  made.push(d);
  return d;
}
export function cleanupTmp(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Copies a golden checkpoint's config files (and the named weight files) into a new temp dir. */
export function copyGolden(model: string, weightFiles: string[] = []): string {
  const d = tmpDir();
  for (const f of ['config.json', 'preprocessor_config.json', ...weightFiles]) fs.copyFileSync(path.join(goldenDir(model), f), path.join(d, f));
  return d;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Writes a STORED zip. With `zip64`, every size/offset field is 0xFFFFFFFF with the real values in ZIP64 extra
 * fields, and the directory is found through a ZIP64 end record, as writers do for archives over 4 GB.
 * `holeBeforeLast` leaves that many unwritten bytes before the last entry (a sparse file: a multi-GB archive).
 */
export function writeZip(
  file: string,
  entries: [string, Uint8Array][],
  opts: { zip64?: boolean; padding?: number; holeBeforeLast?: number } = {},
): void {
  const fd = fs.openSync(file, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    fs.writeSync(fd, b, 0, b.length, offset);
    offset += b.length;
  };
  for (const [n, [name, data]] of entries.entries()) {
    if (n === entries.length - 1 && opts.holeBeforeLast) offset += opts.holeBeforeLast; // a sparse gap: huge offsets, no disk use
    const nameBuf = Buffer.from(name);
    const crc = crc32(data);
    const localOffset = offset;
    const pad = Buffer.alloc(opts.padding ? 4 + opts.padding : 0); // an unknown extra field, like torch's alignment padding
    if (opts.padding) {
      pad.writeUInt16LE(0x4246, 0);
      pad.writeUInt16LE(opts.padding, 2);
    }
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(opts.zip64 ? 45 : 20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(pad.length, 28);
    push(Buffer.concat([local, nameBuf, pad, Buffer.from(data)]));
    const extra = Buffer.alloc(opts.zip64 ? 28 : 0);
    if (opts.zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(data.length), 4);
      extra.writeBigUInt64LE(BigInt(data.length), 12);
      extra.writeBigUInt64LE(BigInt(localOffset), 20);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(opts.zip64 ? 45 : 20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(opts.zip64 ? 0xffffffff : data.length, 20);
    c.writeUInt32LE(opts.zip64 ? 0xffffffff : data.length, 24);
    c.writeUInt16LE(nameBuf.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(opts.zip64 ? 0xffffffff : localOffset, 42);
    central.push(Buffer.concat([c, nameBuf, extra]));
  }
  const cdOffset = offset;
  const cd = Buffer.concat(central);
  push(cd);
  if (opts.zip64) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeUInt16LE(45, 12);
    z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(entries.length), 24);
    z.writeBigUInt64LE(BigInt(entries.length), 32);
    z.writeBigUInt64LE(BigInt(cd.length), 40);
    z.writeBigUInt64LE(BigInt(cdOffset), 48);
    const zPos = offset;
    push(z);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(zPos), 8);
    loc.writeUInt32LE(1, 16);
    push(loc);
  }
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 8);
  e.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 10);
  e.writeUInt32LE(opts.zip64 ? 0xffffffff : cd.length, 12);
  e.writeUInt32LE(opts.zip64 ? 0xffffffff : cdOffset, 16);
  push(e);
  fs.closeSync(fd);
}

/** A zip's entries, read with fflate (independent of lib/weights/zip.ts), in archive order. */
export function zipEntries(file: string): [string, Uint8Array][] {
  return Object.entries(unzipSync(fs.readFileSync(file)));
}

/** A float64 .npy (as numpy wrote it): shape and data. */
export function readNpyF64(file: string): { shape: number[]; data: Float64Array } {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'<f8'") || header.includes("'fortran_order': True")) throw new Error(`unexpected npy header ${header}`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header) as RegExpExecArray)[1]
    .split(',')
    .filter((s) => s.trim())
    .map(Number);
  const bytes = buf.subarray(10 + hlen);
  const data = new Float64Array(bytes.length / 8);
  for (let i = 0; i < data.length; i++) data[i] = bytes.readDoubleLE(i * 8);
  return { shape, data };
}

/** Bit patterns of a float32 array, so comparisons are exact (NaN, -0 included). */
export const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/**
 * An HF tensor in the stored layout, by index formulas written independently of keymap.ts:
 * 2-D Linear [out, in] → [in, out]; 3-D Conv1d [out, in, K] → [K, in, out]; anything else as is.
 */
export function reLaid(key: string, shape: number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  if (shape.length === 2 && !key.endsWith('rel_attn_embed.weight')) {
    const [O, I] = shape;
    const d = new Float32Array(O * I);
    for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) d[i * O + o] = data[o * I + i];
    return { shape: [I, O], data: d };
  }
  if (shape.length === 3) {
    const [O, I, K] = shape;
    const d = new Float32Array(O * I * K);
    for (let k = 0; k < K; k++) for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) d[k * I * O + i * O + o] = data[o * I * K + i * K + k];
    return { shape: [K, I, O], data: d };
  }
  return { shape, data };
}

/** Max |a − b| of the pos-conv weight stored as [K, I, O] against the float64 HF-layout [O, I, K] reference. */
export function maxFoldError(stored: Float32Array, ref: { shape: number[]; data: Float64Array }): number {
  const [O, I, K] = ref.shape;
  let err = 0;
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let k = 0; k < K; k++) {
        err = Math.max(err, Math.abs(stored[k * I * O + i * O + o] - ref.data[o * I * K + i * K + k]));
      }
  return err;
}

/** Half of a float16 ulp at |x| (the most round-to-nearest can move it); subnormal spacing below 2^-14. */
export function halfUlpF16(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -14) return 2 ** -25;
  return 2 ** (Math.floor(Math.log2(a)) - 11);
}

/** Index of the first element whose bits differ (or the shorter length), −1 if identical: fast exact compares. */
export function firstBitDiff(a: Float32Array, b: Float32Array): number {
  const x = bits(a);
  const y = bits(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return i;
  return x.length === y.length ? -1 : n;
}

/** A RegExp matching `s` literally (file paths in error messages). */
export const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The message of the CheckpointError that `f` throws (fails the test when it throws nothing or something else). */
export const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return (e as Error).message;
  }
  throw new Error('expected a CheckpointError');
};

/** A view on a persistent storage, as data.pkl describes a tensor. Strides default to contiguous. */
export interface PickledTensor {
  name: string;
  storage: string;
  numel: number;
  type?: string;
  offset?: number;
  shape: number[];
  stride?: number[];
}

const contiguous = (shape: number[]): number[] => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/** data.pkl as torch.save writes it (protocol 2): a dict of `_rebuild_tensor_v2` views. Non-int32 numbers go in as floats. */
export function torchPickle(tensors: PickledTensor[]): Uint8Array {
  const parts: Buffer[] = [];
  const op = (s: string) => parts.push(Buffer.from(s, 'latin1'));
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58; // BINUNICODE
    head.writeUInt32LE(b.length, 1);
    parts.push(head, b);
  };
  const num = (v: number) => {
    const b = Buffer.alloc(9);
    if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
      b[0] = 0x4a; // BININT
      b.writeInt32LE(v, 1);
      parts.push(b.subarray(0, 5));
    } else {
      b[0] = 0x47; // BINFLOAT
      b.writeDoubleBE(v, 1);
      parts.push(b);
    }
  };
  op('\x80\x02}(');
  for (const t of tensors) {
    str(t.name);
    op('ctorch._utils\n_rebuild_tensor_v2\n((');
    str('storage');
    op(`ctorch\n${t.type ?? 'FloatStorage'}\n`);
    str(t.storage);
    str('cpu');
    num(t.numel);
    op('tQ');
    num(t.offset ?? 0);
    op('(');
    t.shape.forEach(num);
    op('t(');
    (t.stride ?? contiguous(t.shape)).forEach(num);
    op('t\x89ccollections\nOrderedDict\n)RtR');
  }
  op('u.');
  return Uint8Array.from(Buffer.concat(parts));
}

/** A torch.save zip holding `tensors`, each on its own FloatStorage; `views` replaces some tensors' shape and stride. */
export function writeTorchBin(
  file: string,
  tensors: Map<string, HostTensor>,
  views: Record<string, { shape: number[]; stride: number[] }> = {},
): [string, Uint8Array][] {
  const named = [...tensors].map(([name, t], i) => ({
    name,
    storage: String(i),
    numel: t.data.length,
    ...(views[name] ?? { shape: t.shape }),
    data: t.data,
  }));
  const entries: [string, Uint8Array][] = [
    ['archive/data.pkl', torchPickle(named)],
    ...named.map((t): [string, Uint8Array] => [`archive/data/${t.storage}`, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]),
  ];
  writeZip(file, entries);
  return entries;
}

/**
 * Every weight-file layout convert reads, as checkpoint directories built from a golden model: its safetensors
 * (F32) and .bin as they are, the safetensors split into two shards with an index, the same tensors written as F16
 * and as BF16 safetensors (bits rounded and truncated here, independently of lib/weights), and the .bin as a
 * two-shard index whose shards each hold every tensor. Deterministic, so convert's output can be pinned.
 */
export function checkpointVariants(model: string): Record<string, string> {
  const golden = path.join(goldenDir(model), 'model.safetensors');
  const all = readSafetensors(golden);
  const names = [...all.keys()];
  const withFile = (file: string, write: (dir: string) => void): string => {
    const d = copyGolden(model);
    write(d);
    return path.join(d, file);
  };
  const f16 = (x: Float32Array) => Uint16Array.from(x, (v) => roundToHalf(v));
  const bf16 = (x: Float32Array) => Uint16Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length), (u) => u >>> 16);
  const recoded = (dtype: 'F16' | 'BF16') => (d: string) =>
    writeSafetensors(
      path.join(d, 'model.safetensors'),
      new Map(names.map((n) => [n, { shape: all.get(n)!.shape, data: (dtype === 'F16' ? f16 : bf16)(all.get(n)!.data), dtype }])),
    );
  return {
    safetensors: withFile('model.safetensors', (d) => fs.copyFileSync(golden, path.join(d, 'model.safetensors'))),
    'safetensors-sharded': withFile('model.safetensors.index.json', (d) => {
      const shard = (i: number) => (i < names.length / 2 ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors');
      for (const s of [shard(0), shard(names.length)]) {
        writeSafetensors(path.join(d, s), new Map(names.filter((_, i) => shard(i) === s).map((n) => [n, all.get(n)!])));
      }
      const weightMap = Object.fromEntries(names.map((n, i) => [n, shard(i)]));
      fs.writeFileSync(path.join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    }),
    'safetensors-f16': withFile('model.safetensors', recoded('F16')),
    'safetensors-bf16': withFile('model.safetensors', recoded('BF16')),
    bin: withFile('pytorch_model.bin', (d) => fs.copyFileSync(path.join(goldenDir(model), 'pytorch_model.bin'), path.join(d, 'pytorch_model.bin'))),
    'bin-sharded': withFile('pytorch_model.bin.index.json', (d) => {
      const weightMap = Object.fromEntries(names.map((n, i) => [n, `pytorch_model-0000${(i % 2) + 1}-of-00002.bin`]));
      for (const s of new Set(Object.values(weightMap))) fs.copyFileSync(path.join(goldenDir(model), 'pytorch_model.bin'), path.join(d, s));
      fs.writeFileSync(path.join(d, 'pytorch_model.bin.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    }),
  };
}

/** float32 → nearest float16 bits (ties to even), in float64 arithmetic: for finite values in half's range. */
export function roundToHalf(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  let e = -14; // the smallest normal exponent; below 2^-14, subnormal steps of 2^-24
  while (e < 15 && 2 ** (e + 1) <= a) e++;
  let m = a / 2 ** (e - 10); // exact (a power-of-two scaling): 1024 ≤ m < 2048, or m < 1024 for a subnormal
  const f = Math.floor(m);
  m = m - f > 0.5 || (m - f === 0.5 && f % 2 === 1) ? f + 1 : f;
  if (m === 2048) [e, m] = [e + 1, 1024];
  if (e > 15 || a >= 2 ** 16) throw new Error(`${v} overflows float16`);
  return m < 1024 ? sign | m : sign | ((e + 15) << 10) | (m - 1024);
}

/** float16 bits → value, in float64 arithmetic (the IEEE definition). */
export function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 31) return f ? NaN : s * Infinity;
  return e === 0 ? s * f * 2 ** -24 : s * (1024 + f) * 2 ** (e - 25);
}
