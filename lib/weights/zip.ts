/**
 * A read-only zip reader that works through a file handle: it reads the end-of-central-directory record (and the
 * ZIP64 one for archives over 4 GB), the central directory and each entry's local header, never the whole file.
 * torch.save writes STORED entries, read in place by byte range; DEFLATE entries are inflated, small ones only.
 */
import * as fs from 'fs';
import { inflateSync } from 'fflate';
import { CheckpointError } from '../errors';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate */
  method: number;
  compressedSize: number;
  size: number;
  /** Absolute offset of the entry's (compressed) bytes in the file. */
  dataOffset: number;
}

export interface ZipArchive {
  file: string;
  fd: number;
  size: number;
  entries: Map<string, ZipEntry>;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
/** Largest DEFLATE entry we inflate in memory (torch never compresses; this covers data.pkl from other writers). */
export const MAX_INFLATE_BYTES = 64 * 1024 * 1024;

function readAt(fd: number, pos: number, len: number, file: string): Buffer {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) throw new CheckpointError(`unexpected end of file reading ${len} bytes at ${pos}: truncated?`, file);
    got += n;
  }
  return buf;
}

const u64 = (b: Buffer, at: number): number => {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER; // caught by the range checks
  return Number(v);
};

/** Opens a zip and reads its directory. Close the archive with closeZip. */
export function openZip(file: string): ZipArchive {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new CheckpointError(`cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  try {
    const size = fs.fstatSync(fd).size;
    return { file, fd, size, entries: readDirectory(fd, size, file) };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

export function closeZip(zip: ZipArchive): void {
  fs.closeSync(zip.fd);
}

function readDirectory(fd: number, size: number, file: string): Map<string, ZipEntry> {
  // The EOCD record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const tailLen = Math.min(size, 22 + U16_MAX);
  const tail = readAt(fd, size - tailLen, tailLen, file);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new CheckpointError('not a zip file (no end-of-central-directory record)', file);
  const eocdPos = size - tailLen + eocd;
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    if (eocdPos < 20) throw new CheckpointError('zip says it is ZIP64 but has no ZIP64 locator', file);
    const loc = readAt(fd, eocdPos - 20, 20, file);
    if (loc.readUInt32LE(0) !== ZIP64_LOCATOR_SIG) throw new CheckpointError('zip says it is ZIP64 but has no ZIP64 locator', file);
    const z64Pos = u64(loc, 8);
    if (z64Pos + 56 > eocdPos) throw new CheckpointError('ZIP64 end-of-central-directory record lies outside the file', file);
    const z = readAt(fd, z64Pos, 56, file);
    if (z.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw new CheckpointError('bad ZIP64 end-of-central-directory record', file);
    count = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
  }
  if (cdOffset + cdSize > eocdPos)
    throw new CheckpointError(`central directory (${cdSize} bytes at ${cdOffset}) lies outside the file: truncated?`, file);
  const cd = readAt(fd, cdOffset, cdSize, file);
  const entries = new Map<string, ZipEntry>();
  const extents: [start: number, end: number, name: string][] = []; // each entry's local header and data
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) throw new CheckpointError(`bad central directory record ${n}`, file);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let usize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length)
      throw new CheckpointError(`bad central directory record ${n}: longer than the directory`, file);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extra field: the 64-bit values, in this order, for exactly the fields that are 0xFFFFFFFF.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (x + 4 + len > xEnd) throw new CheckpointError(`entry "${name}": extra field longer than its record`, file);
      if (id === 0x0001) {
        let q = x + 4;
        const next = (): number => {
          if (q + 8 > x + 4 + len) throw new CheckpointError(`entry "${name}": short ZIP64 extra field`, file);
          const v = u64(cd, q);
          q += 8;
          return v;
        };
        if (usize === U32_MAX) usize = next();
        if (compressedSize === U32_MAX) compressedSize = next();
        if (localOffset === U32_MAX) localOffset = next();
      }
      x += 4 + len;
    }
    p = xEnd + commentLen;
    if (flags & 1) throw new CheckpointError(`entry "${name}" is encrypted`, file);
    if (method !== 0 && method !== 8) throw new CheckpointError(`entry "${name}" uses compression method ${method} (only stored and deflate)`, file);
    if (method === 0 && compressedSize !== usize)
      throw new CheckpointError(`stored entry "${name}" has different sizes (${compressedSize}, ${usize})`, file);
    if (localOffset + 30 > cdOffset) throw new CheckpointError(`entry "${name}": local header lies outside the file data`, file);
    const local = readAt(fd, localOffset, 30, file);
    if (local.readUInt32LE(0) !== LOCAL_SIG) throw new CheckpointError(`entry "${name}": bad local header`, file);
    const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataOffset + compressedSize > cdOffset) throw new CheckpointError(`entry "${name}" ends past the file data: truncated?`, file);
    // One name, one content: PyTorch reads the first of two equal names, a map keeps the last.
    if (entries.has(name)) throw new CheckpointError(`duplicate entry "${name}"`, file);
    entries.set(name, { name, method, compressedSize, size: usize, dataOffset });
    extents.push([localOffset, dataOffset + compressedSize, name]);
  }
  // Entries sharing bytes would let a small file hold many large (or many compressed) storages.
  extents.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < extents.length; i++) {
    if (extents[i][0] < extents[i - 1][1]) throw new CheckpointError(`entries "${extents[i - 1][2]}" and "${extents[i][2]}" overlap`, file);
  }
  return entries;
}

/** `len` uncompressed bytes of a STORED entry from `pos` (read in place, so entries of any size work). */
export function readStoredRange(zip: ZipArchive, e: ZipEntry, pos: number, len: number): Buffer {
  if (e.method !== 0) throw new CheckpointError(`entry "${e.name}" is compressed; cannot read a byte range of it`, zip.file);
  if (pos < 0 || pos + len > e.size)
    throw new CheckpointError(`entry "${e.name}": bytes ${pos}..${pos + len} are past its ${e.size} bytes`, zip.file);
  return readAt(zip.fd, e.dataOffset + pos, len, zip.file);
}

/** A whole entry, inflated if needed (DEFLATE entries up to MAX_INFLATE_BYTES). */
export function readEntry(zip: ZipArchive, e: ZipEntry): Uint8Array {
  if (e.method === 0) return readStoredRange(zip, e, 0, e.size);
  if (e.size > MAX_INFLATE_BYTES) throw new CheckpointError(`compressed entry "${e.name}" is too large to inflate (${e.size} bytes)`, zip.file);
  const raw = readAt(zip.fd, e.dataOffset, e.compressedSize, zip.file);
  let out: Uint8Array;
  try {
    out = inflateSync(raw, { out: new Uint8Array(e.size + 1) }); // one spare byte, so overlong data shows
  } catch (err) {
    throw new CheckpointError(`entry "${e.name}": corrupt deflate data (${(err as Error).message})`, zip.file);
  }
  if (out.length !== e.size) throw new CheckpointError(`entry "${e.name}": inflated to ${out.length} bytes, expected ${e.size}`, zip.file);
  return out;
}
