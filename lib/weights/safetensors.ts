/**
 * safetensors: u64 LE header length, JSON header {name: {dtype, shape, data_offsets}}, raw LE data.
 * Read through a file handle, one tensor at a time, so multi-GB checkpoints never sit in memory whole.
 * The header is validated before any data is trusted.
 */
import * as fs from 'fs';
import { CheckpointError } from '../errors';
import { showJson } from './json';
import { TensorReader, openSharded, readAll } from './shards';
import { HostTensor, decodeFloats, sizeOf } from './tensor';

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);
/** A header takes about 150 bytes a tensor: 16 MiB is 100 000 tensors (the safetensors crate allows 100 MB). */
const MAX_HEADER = 16 * 1024 * 1024;
/** A header nests 3 levels ({name: {shape: […]}}); JSON.parse of 16 MB of `[` would take seconds and gigabytes. */
const MAX_HEADER_DEPTH = 8;

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  begin: number; // absolute byte offset in the file
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Parses and validates the header: offsets inside the file, no overlaps, dtype × shape = byte length. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openOrThrow(file);
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw new CheckpointError(`not a safetensors file: ${size} bytes, shorter than the 8-byte header length`, file);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
      throw new CheckpointError(`not a safetensors file or truncated: header length ${headerLen} does not fit in ${size} bytes`, file);
    }
    const hbuf = Buffer.alloc(headerLen);
    fs.readSync(fd, hbuf, 0, headerLen, 8);
    const text = hbuf.toString('utf8');
    checkHeaderText(text, file);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CheckpointError('safetensors header is not valid JSON', file);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new CheckpointError('safetensors header is not a JSON object', file);
    const dataStart = 8 + headerLen;
    const entries = new Map<string, SafetensorsEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(json)) {
      if (name === '__metadata__') {
        if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
          throw new CheckpointError('"__metadata__" must be an object of strings', file);
        }
        metadata = v as Record<string, string>;
        continue;
      }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const bad = (why: string) => new CheckpointError(`tensor "${name}": ${why}`, file);
      if (typeof e?.dtype !== 'string' || !(e.dtype in BYTES)) throw bad(`unknown dtype ${showJson(e?.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad('bad shape');
      const offs = e.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[0] > offs[1]) {
        throw bad('bad data_offsets');
      }
      const [b, en] = offs as number[];
      if (dataStart + en > size) throw bad(`data ends at byte ${dataStart + en}, past the end of the file (${size} bytes): truncated?`);
      const expected = sizeOf(e.shape as number[]) * BYTES[e.dtype];
      if (en - b !== expected) throw bad(`${en - b} bytes of data but ${e.dtype}${showJson(e.shape)} needs ${expected}`);
      entries.set(name, { dtype: e.dtype, shape: e.shape as number[], begin: dataStart + b, end: dataStart + en });
    }
    const sorted = [...entries.entries()].filter(([, e]) => e.end > e.begin).sort((a, b) => a[1].begin - b[1].begin);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i][1].begin < sorted[i - 1][1].end) {
        throw new CheckpointError(`tensors "${sorted[i - 1][0]}" and "${sorted[i][0]}" overlap`, file);
      }
    }
    return { entries, metadata };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuses, before JSON.parse sees the header, what it would choke on or hide: nesting deeper than MAX_HEADER_DEPTH,
 * and a key given twice in one object (JSON.parse keeps the last; another reader may take the first).
 */
function checkHeaderText(text: string, file: string): void {
  const open: (Set<string> | null)[] = []; // per open bracket: the object's keys so far, or null for an array
  let isKey = false; // whether the next string is a key
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = open[open.length - 1];
      if (isKey && keys) {
        const key = decodeKey(text.slice(i, j + 1));
        if (keys.has(key)) throw new CheckpointError(`safetensors header has the key ${showJson(key)} twice`, file);
        keys.add(key);
      }
      isKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      open.push(c === '{' ? new Set() : null);
      if (open.length > MAX_HEADER_DEPTH) throw new CheckpointError(`safetensors header nests deeper than ${MAX_HEADER_DEPTH} levels`, file);
      isKey = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      isKey = open[open.length - 1] instanceof Set;
    }
  }
}

/** A JSON string literal's value (escapes resolved, so "\u0077" and "w" are one key); a broken one as it is. */
function decodeKey(literal: string): string {
  if (!literal.includes('\\')) return literal.slice(1, -1);
  try {
    return JSON.parse(literal);
  } catch {
    return literal; // not valid JSON: JSON.parse of the whole header reports it
  }
}

/** Opens a safetensors file for the names `keep` selects; each read decodes one float tensor (F32/F16/BF16 → float32). */
export function openSafetensors(file: string, keep: (name: string) => boolean = () => true): TensorReader {
  const entries = new Map([...readSafetensorsHeader(file).entries].filter(([name]) => keep(name)));
  const fd = openOrThrow(file);
  return {
    shapes: new Map([...entries].map(([name, e]) => [name, e.shape.slice()])),
    read(name) {
      const e = entries.get(name);
      if (!e) throw new CheckpointError(`no tensor "${name}"`, file);
      if (!FLOAT_DTYPES.has(e.dtype))
        throw new CheckpointError(`tensor "${name}" has dtype ${e.dtype}; only F32, F16 and BF16 weights are supported`, file);
      const bytes = Buffer.alloc(e.end - e.begin);
      const got = fs.readSync(fd, bytes, 0, bytes.length, e.begin);
      if (got !== bytes.length) throw new CheckpointError(`tensor "${name}": short read (${got} of ${bytes.length} bytes)`, file);
      return { shape: e.shape.slice(), data: decodeFloats(bytes, e.dtype as 'F32' | 'F16' | 'BF16') };
    },
    close: () => fs.closeSync(fd),
  };
}

/** Reads float tensors (F32/F16/BF16 → float32). `keep` selects names; others are skipped without reading. */
export function readSafetensors(file: string, keep: (name: string) => boolean = () => true): Map<string, HostTensor> {
  return readAll(openSafetensors(file, keep));
}

/** A sharded checkpoint: `model.safetensors.index.json` maps each weight to its shard file. */
export function readShardedSafetensors(indexFile: string, keep: (name: string) => boolean = () => true): Map<string, HostTensor> {
  return readAll(openSharded(indexFile, openSafetensors, keep));
}

function openOrThrow(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    throw new CheckpointError(`cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
}

/**
 * Writes a safetensors file (F32, or F16/BF16 bits given as a Uint16Array), atomically. Used for fixtures and bench
 * checkpoints: `data` may be a function, called for each tensor only as it is written, so a multi-GB file is
 * written holding one tensor at a time.
 */
export function writeSafetensors(
  file: string,
  tensors: Map<string, { shape: number[]; data: Float32Array | Uint16Array | (() => Float32Array); dtype?: 'F32' | 'F16' | 'BF16' }>,
  metadata?: Record<string, string>,
): void {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const dtype = t.dtype ?? (t.data instanceof Uint16Array ? 'F16' : 'F32');
    const bytes = typeof t.data === 'function' ? sizeOf(t.shape) * BYTES[dtype] : t.data.byteLength; // as given, even if wrong (fixtures of bad files)
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, Buffer.from(json, 'utf8'));
    for (const [name, t] of tensors) {
      const data = typeof t.data === 'function' ? t.data() : t.data;
      const [begin, end] = (header[name] as { data_offsets: number[] }).data_offsets;
      if (data.byteLength !== end - begin) throw new Error(`${name}: ${data.byteLength} bytes, ${end - begin} announced`);
      fs.writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
