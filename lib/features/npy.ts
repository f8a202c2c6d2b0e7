/**
 * NumPy .npy files holding float32 little-endian C-order arrays of rank 1 or 2 (what the feature store uses,
 * so `np.load` opens the features). Reads format versions 1–3, writes 1.0.
 */
import * as fs from 'fs';
import { writeFileAtomic } from '../atomic';
import { DataError } from '../errors';

export interface NpyArray {
  data: Float32Array;
  /** [N] or [N, D] */
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Longer headers are refused: NumPy writes ~128 bytes for these arrays (and itself refuses over 10000 by default). */
export const MAX_NPY_HEADER = 65536;

/** A header excerpt for error messages (a header can be 64 KB of anything). */
const excerpt = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/**
 * Parses the header dict, a Python literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`
 * followed by space padding and a newline: exactly the keys descr (a string), fortran_order (True/False) and
 * shape (a tuple of non-negative integers), each once, as NumPy's reader requires. A strict scanner rather than
 * regular expressions, which matched keys inside other values and backtracked quadratically on long headers.
 */
function parseHeader(header: string, file: string): { descr: string; fortran: boolean; shape: number[] } {
  let i = 0;
  const fail = (why: string): never => {
    throw new DataError(`malformed .npy header (${why} at character ${i}): ${excerpt(header)}`, file);
  };
  const space = () => {
    while (i < header.length && ' \t\r\n'.includes(header[i])) i++;
  };
  const expect = (c: string) => {
    space();
    if (header[i] !== c) fail(`expected "${c}"`);
    i++;
  };
  const string = (): string => {
    space();
    const q = header[i];
    if (q !== "'" && q !== '"') fail('expected a quoted string');
    const end = header.indexOf(q, i + 1);
    if (end < 0) fail('unterminated string');
    const v = header.slice(i + 1, end);
    if (v.includes('\\')) fail('escapes in a string');
    i = end + 1;
    return v;
  };
  const word = (): string => {
    space();
    const m = /^[A-Za-z]+/.exec(header.slice(i, i + 8));
    if (!m) fail('expected True or False');
    i += m![0].length;
    return m![0];
  };
  const tuple = (): number[] => {
    expect('(');
    const dims: number[] = [];
    for (;;) {
      space();
      if (header[i] === ')') break;
      const m = /^\d+L?/.exec(header.slice(i, i + 32));
      if (!m) fail('expected a non-negative integer');
      const d = Number(m![0].replace(/L$/, ''));
      if (!Number.isSafeInteger(d)) fail(`dimension ${m![0]} is too large`);
      dims.push(d);
      i += m![0].length;
      space();
      if (header[i] === ',') i++;
      else if (header[i] !== ')') fail('expected "," or ")"');
    }
    i++;
    return dims;
  };
  const seen = new Map<string, unknown>();
  expect('{');
  for (;;) {
    space();
    if (header[i] === '}') break;
    const key = string();
    if (seen.has(key)) fail(`key '${key}' repeats`);
    expect(':');
    if (key === 'descr') seen.set(key, string());
    else if (key === 'fortran_order') {
      const w = word();
      if (w !== 'True' && w !== 'False') fail('fortran_order is neither True nor False');
      seen.set(key, w === 'True');
    } else if (key === 'shape') seen.set(key, tuple());
    else fail(`unexpected key '${key}'`);
    space();
    if (header[i] === ',') i++;
    else if (header[i] !== '}') fail('expected "," or "}"');
  }
  i++;
  space();
  if (i < header.length) fail('text after the dict');
  const missing = ['descr', 'fortran_order', 'shape'].filter((k) => !seen.has(k));
  if (missing.length) fail(`no ${missing.join(', ')}`);
  return { descr: seen.get('descr') as string, fortran: seen.get('fortran_order') as boolean, shape: seen.get('shape') as number[] };
}

export function decodeNpy(buf: Uint8Array, file: string): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw new DataError('not a NumPy .npy file (bad magic)', file);
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new DataError(`truncated .npy header (${buf.length} bytes)`, file);
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else throw new DataError(`unsupported .npy format version ${major}.${buf[7]}`, file);
  if (headerLen > MAX_NPY_HEADER) throw new DataError(`.npy header of ${headerLen} bytes is too large (at most ${MAX_NPY_HEADER})`, file);
  if (offset + headerLen > buf.length) throw new DataError('truncated .npy header', file);
  const header = Buffer.from(buf.subarray(offset, offset + headerLen)).toString(major === 3 ? 'utf8' : 'latin1');
  const { descr, fortran, shape } = parseHeader(header, file);
  if (descr !== '<f4') throw new DataError(`unsupported .npy dtype ${descr} (expected float32 '<f4')`, file);
  if (fortran) throw new DataError('Fortran-order .npy arrays are not supported (save with C order)', file);
  if (shape.length < 1 || shape.length > 2) throw new DataError(`expected a 1-D or 2-D array, got shape (${shape.join(', ')})`, file);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  if (buf.length - start !== count * 4) {
    throw new DataError(`.npy data is ${buf.length - start} bytes, shape (${shape.join(', ')}) needs ${count * 4}`, file);
  }
  // Copy into an aligned buffer: the data offset is only guaranteed 16-byte aligned within the file.
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(buf.subarray(start, start + count * 4));
  return { data, shape };
}

export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(`cannot read .npy file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  return decodeNpy(buf, file);
}

export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`shape (${shape.join(', ')}) needs ${count} values, got ${data.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // Pad with spaces so that magic + length + header + '\n' is a multiple of 64, as NumPy does.
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64 || 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.length * 4), 10 + header.length);
  return out;
}

/** Writes a float32 array as .npy v1.0, atomically. */
export function writeNpy(file: string, data: Float32Array, shape: number[]): void {
  writeFileAtomic(file, encodeNpy(data, shape));
}
