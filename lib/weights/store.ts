/**
 * The converted weight store that `wavprobe convert` writes (format documented in weights/README.md):
 *   model.json                TF.js-style weights manifest: one group, its shard paths, every weight's
 *                             name / shape / dtype (float16 storage marked by `quantization: {dtype: 'float16'}`)
 *   group1-shardNofM.bin      the weights' bytes, concatenated in manifest order, cut into shards
 *   config.json, preprocessor_config.json   the HF files (a default preprocessor config if the source had none)
 *   wavprobe.json             format version, source, dtype, layouts, the model's fingerprint, and the size and
 *                             sha256 of every file
 * Weights are already in the forward pass's layouts (keymap.ts), so loading does no transposes.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError, UsageError, WavprobeError } from '../errors';
import { packageInfo } from '../version';
import type { Checkpoint } from './checkpoint';
import { DEFAULT_PREPROCESSOR, preprocessorConfigToJson, readJsonFile, readModelConfig, readPreprocessorConfig } from './config';
import { showJson } from './json';
import { weightsFingerprint } from './fingerprint';
import { expectedWeights, storedShape } from './keymap';
import { HostTensor, HostWeightSet, WeightLookup, checkFinite, checkFiniteHalf, decodeFloats, float32ToFloat16, sizeOf } from './tensor';

export const STORE_FORMAT = 'wavprobe-weights';
export const STORE_VERSION = 1;
export const STORE_INFO = 'wavprobe.json';
export const STORE_MANIFEST = 'model.json';
export const DEFAULT_SHARD_BYTES = 256 * 1024 * 1024;
export type StoreDtype = 'float32' | 'float16';
export const STORE_DTYPES: readonly StoreDtype[] = ['float32', 'float16'];

/** The layouts every store holds, recorded in wavprobe.json so the files explain themselves. */
export const STORE_LAYOUTS = {
  linear: '[in, out]: HF Linear weight [out, in] transposed, so y = x·W + b',
  conv: '[K, in/groups, out]: HF Conv1d weight [out, in/groups, K] permuted (tfjs conv1d filter layout)',
  pos_conv: 'encoder.pos_conv_embed.conv.weight: weight norm folded, w = g·v/‖v‖ with the norm over out and in per kernel tap',
  other: 'as in the HF checkpoint (biases, norms, gru_rel_pos_const, rel_attn_embed)',
};

export interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: 'float32';
  quantization?: { dtype: 'float16'; original_dtype: 'float32' };
}

export interface StoreInfo {
  format: string;
  formatVersion: number;
  generatedBy: string;
  created: string;
  /** A local directory, or a hub id `org/name@revision`. */
  source: string;
  /** The weight file (or shard index) the store was converted from, relative to the source. */
  sourceWeightFile: string;
  modelType: string;
  dtype: StoreDtype;
  parameters: number;
  /** weightsFingerprint of the source, recorded at conversion; null in stores written before it was. */
  fingerprint: string | null;
  preprocessorConfig: 'copied' | 'default';
  layouts: typeof STORE_LAYOUTS;
  files: Record<string, { bytes: number; sha256: string }>;
}

export interface WriteStoreOptions {
  dtype: StoreDtype;
  source: string;
  shardBytes?: number;
  /** Called after each weight with bytes written so far and in all. */
  onProgress?: (done: number, total: number) => void;
}

export const isStore = (dir: string): boolean => fs.existsSync(path.join(dir, STORE_INFO));

const bytesPerElement = (dtype: StoreDtype): number => (dtype === 'float16' ? 2 : 4);
const shardName = (i: number, n: number): string => `group1-shard${i + 1}of${n}.bin`;

/** The bytes of one weight as stored (little-endian float32 or float16); `file` names the source in errors. */
function encodeWeight(name: string, t: HostTensor, dtype: StoreDtype, file: string): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const a = float32ToFloat16(t.data);
  const inf = a.findIndex((h) => (h & 0x7c00) === 0x7c00); // rounded to ±Inf: the store would not load
  if (inf >= 0) throw new CheckpointError(`${name}: ${t.data[inf]} does not fit in float16 (largest 65504): convert with --dtype float32`, file);
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The shard files of a store, written at any byte position (weights arrive in any order), hashed once complete. */
class ShardFiles {
  private readonly fds: number[] = [];
  constructor(
    private readonly dir: string,
    private readonly shardBytes: number,
    private readonly count: number,
  ) {}
  write(bytes: Uint8Array, at: number): void {
    for (let p = 0; p < bytes.length;) {
      const i = Math.floor((at + p) / this.shardBytes);
      const off = at + p - i * this.shardBytes;
      const n = Math.min(bytes.length - p, this.shardBytes - off);
      this.fds[i] ??= fs.openSync(path.join(this.dir, shardName(i, this.count)), 'w');
      fs.writeSync(this.fds[i], bytes, p, n, off);
      p += n;
    }
  }
  /** Closes the shards; with `hash`, returns each one's size and sha256, in shard order. */
  close(hash = true): Record<string, { bytes: number; sha256: string }> {
    const files: Record<string, { bytes: number; sha256: string }> = {};
    this.fds.forEach((fd, i) => {
      fs.closeSync(fd);
      const file = path.join(this.dir, shardName(i, this.count));
      if (hash) files[shardName(i, this.count)] = { bytes: fs.statSync(file).size, sha256: sha256File(file) };
    });
    this.fds.length = 0;
    return files;
  }
}

/** Indented JSON with number lists (shapes) kept on one line. */
const prettyJson = (v: unknown): string => JSON.stringify(v, null, 1).replace(/\[[\d,\s]*\]/g, (m) => m.replace(/\s+/g, '')) + '\n';

function writeHashed(file: string, data: string | Uint8Array): { bytes: number; sha256: string } {
  fs.writeFileSync(file, data);
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return { bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') };
}

/** sha256 of a file, read in chunks (stores can be many GB). */
export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4 * 1024 * 1024);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Writes `ckpt` as a store at `dir`: everything goes to `<dir>.tmp-<pid>`, renamed to `dir` only when complete
 * (the temp directory is removed on failure). `dir` must not exist yet. Weights are got one at a time and written
 * at their place in the shards as they come: with an OpenCheckpoint's weights only one is in memory at a time.
 * Without `ckpt.fingerprint`, the same pass computes it (weightsFingerprint gets the weights in name order).
 */
export function writeStore(
  dir: string,
  ckpt: Omit<Checkpoint<WeightLookup>, 'fingerprint'> & { fingerprint?: string | null },
  opts: WriteStoreOptions,
): StoreInfo {
  if (fs.existsSync(dir)) throw new UsageError('output directory already exists (remove it or choose another)', dir);
  const shardBytes = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  const per = bytesPerElement(opts.dtype);
  const weights = expectedWeights(ckpt.config).map((e): [string, number[]] => [e.key, storedShape(e)]);
  const offsets = new Map<string, number>();
  const total = weights.reduce((a, [name, shape]) => (offsets.set(name, a), a + sizeOf(shape) * per), 0);
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const shards = new ShardFiles(tmp, shardBytes, count);
  try {
    const shapes = new Map(weights);
    let done = 0;
    const put = (name: string): HostTensor => {
      const shape = shapes.get(name) as number[];
      const t = ckpt.weights.get(name);
      if (!t || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
        throw new CheckpointError(
          `weight "${name}" is ${t ? `of shape ${showJson(t.shape)}` : 'missing'}, expected ${JSON.stringify(shape)}`,
          ckpt.weightFile,
        );
      shards.write(encodeWeight(name, t, opts.dtype, ckpt.weightFile), offsets.get(name) as number);
      done += t.data.length * per;
      opts.onProgress?.(done, total);
      return t;
    };
    const configJson = fs.readFileSync(path.join(ckpt.dir, 'config.json'));
    let fingerprint = ckpt.fingerprint;
    if (fingerprint === undefined) fingerprint = weightsFingerprint(configJson, { keys: () => shapes.keys(), get: put });
    else for (const name of shapes.keys()) put(name);
    const files = shards.close();
    const manifest = {
      format: STORE_FORMAT,
      generatedBy: `wavprobe ${packageInfo().version}`,
      weightsManifest: [
        {
          paths: Object.keys(files),
          weights: weights.map(([name, shape]): ManifestWeight => ({
            name,
            shape,
            dtype: 'float32',
            ...(opts.dtype === 'float16' ? { quantization: { dtype: 'float16', original_dtype: 'float32' } } : {}),
          })),
        },
      ],
    };
    files[STORE_MANIFEST] = writeHashed(path.join(tmp, STORE_MANIFEST), prettyJson(manifest));
    files['config.json'] = writeHashed(path.join(tmp, 'config.json'), configJson);
    const pre = path.join(ckpt.dir, 'preprocessor_config.json');
    const hasPre = fs.existsSync(pre);
    files['preprocessor_config.json'] = writeHashed(
      path.join(tmp, 'preprocessor_config.json'),
      hasPre ? fs.readFileSync(pre) : JSON.stringify(preprocessorConfigToJson(DEFAULT_PREPROCESSOR), null, 2) + '\n',
    );
    const info: StoreInfo = {
      format: STORE_FORMAT,
      formatVersion: STORE_VERSION,
      generatedBy: `wavprobe ${packageInfo().version}`,
      created: new Date().toISOString(),
      source: opts.source,
      sourceWeightFile: path.relative(ckpt.dir, ckpt.weightFile),
      modelType: ckpt.config.modelType,
      dtype: opts.dtype,
      parameters: weights.reduce((a, [, shape]) => a + sizeOf(shape), 0),
      fingerprint,
      preprocessorConfig: hasPre ? 'copied' : 'default',
      layouts: STORE_LAYOUTS,
      files,
    };
    fs.writeFileSync(path.join(tmp, STORE_INFO), prettyJson(info));
    fs.renameSync(tmp, dir);
    return info;
  } catch (e) {
    shards.close(false);
    fs.rmSync(tmp, { recursive: true, force: true });
    // fs errors (disk full, permissions) become one-line errors; typed errors pass through.
    if (!(e instanceof WavprobeError) && typeof (e as NodeJS.ErrnoException)?.code === 'string') {
      throw new UsageError(`cannot write the store: ${(e as Error).message}`, dir);
    }
    throw e;
  }
}

/** wavprobe.json, checked for format and version; `fingerprint` is null when absent. */
export function readStoreInfo(dir: string): StoreInfo {
  const file = path.join(dir, STORE_INFO);
  const j = readJsonFile(file, (r, f) => new CheckpointError(r, f)) as unknown as StoreInfo;
  if (j.format !== STORE_FORMAT) throw new CheckpointError(`not a wavprobe weight store (format ${showJson(j.format)})`, file);
  if (j.formatVersion !== STORE_VERSION)
    throw new CheckpointError(`store format version ${showJson(j.formatVersion)} is not supported (this wavprobe reads ${STORE_VERSION})`, file);
  if (!STORE_DTYPES.includes(j.dtype)) throw new CheckpointError(`unknown dtype ${showJson(j.dtype)}`, file);
  if (!j.files || typeof j.files !== 'object') throw new CheckpointError('no "files" list', file);
  j.fingerprint ??= null;
  if (j.fingerprint !== null && !/^sha256:[0-9a-f]{64}$/.test(String(j.fingerprint))) {
    throw new CheckpointError(`"fingerprint" must be "sha256:" and 64 hex digits, got ${showJson(j.fingerprint)}`, file);
  }
  return j;
}

/** A name wavprobe.json lists must be a plain file of the store's folder (`infoFile` names the listing in the error). */
export function checkListedName(name: string, infoFile: string): void {
  if (name.includes('/') || name.includes('\\') || name.startsWith('.'))
    throw new CheckpointError(`lists a bad file name ${JSON.stringify(name)}`, infoFile);
}

type ListedFile = StoreInfo['files'][string];

/** A listed file's size against wavprobe.json's record (Node reads it from disk, the page from the network). */
export function checkStoreFileSize(file: string, want: ListedFile, size: number): void {
  if (size !== want.bytes) throw new CheckpointError(`is ${size} bytes, but ${STORE_INFO} says ${want.bytes}: truncated or modified`, file);
}

/** A listed file's sha256 (hex) against wavprobe.json's record. */
export function checkStoreFileHash(file: string, want: ListedFile, sha256: string): void {
  if (sha256 !== want.sha256) throw new CheckpointError(`sha256 does not match ${STORE_INFO}: corrupt or modified`, file);
}

/** Checks every file wavprobe.json lists: present, the recorded size, and (with `checksums`) the recorded sha256. */
export function verifyStoreFiles(dir: string, info: StoreInfo, checksums: boolean): void {
  for (const [name, want] of Object.entries(info.files)) {
    const file = path.join(dir, name);
    checkListedName(name, path.join(dir, STORE_INFO));
    if (!fs.existsSync(file)) throw new CheckpointError('missing from the weight store', file);
    checkStoreFileSize(file, want, fs.statSync(file).size);
    if (checksums) checkStoreFileHash(file, want, sha256File(file));
  }
}

function parseManifest(file: string): { paths: string[]; weights: ManifestWeight[] } {
  const j = readJsonFile(file, (r, f) => new CheckpointError(r, f)) as { weightsManifest?: unknown };
  const groups = j.weightsManifest;
  if (!Array.isArray(groups) || groups.length !== 1) throw new CheckpointError('"weightsManifest" must hold exactly one group', file);
  const { paths, weights } = groups[0] as { paths?: unknown; weights?: unknown };
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && !p.includes('/') && !p.includes('\\') && !p.startsWith('.'))) {
    throw new CheckpointError('"paths" must be a list of shard file names', file);
  }
  if (!Array.isArray(weights)) throw new CheckpointError('"weights" must be a list', file);
  for (const w of weights as ManifestWeight[]) {
    const ok =
      typeof w?.name === 'string' &&
      Array.isArray(w.shape) &&
      w.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      w.dtype === 'float32' &&
      (w.quantization === undefined || w.quantization?.dtype === 'float16');
    if (!ok)
      throw new CheckpointError(`bad weight entry ${showJson(w?.name)} (want name, shape, dtype "float32", optional float16 quantization)`, file);
  }
  return { paths: paths as string[], weights: weights as ManifestWeight[] };
}

/** Reads byte ranges of the concatenation of a group's shard files. */
class ShardReader {
  private readonly fds: number[] = [];
  private readonly sizes: number[] = [];
  readonly total: number;
  constructor(private readonly files: string[]) {
    for (const f of files) {
      this.fds.push(fs.openSync(f, 'r'));
      this.sizes.push(fs.fstatSync(this.fds[this.fds.length - 1]).size);
    }
    this.total = this.sizes.reduce((a, b) => a + b, 0);
  }
  read(pos: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    for (let i = 0, start = 0; i < this.fds.length && done < len; start += this.sizes[i], i++) {
      const at = pos + done - start; // position inside shard i
      if (at >= this.sizes[i]) continue;
      const n = Math.min(len - done, this.sizes[i] - at);
      const got = fs.readSync(this.fds[i], out, done, n, at);
      if (got !== n) throw new CheckpointError(`short read (${got} of ${n} bytes)`, this.files[i]);
      done += n;
    }
    return out;
  }
  close(): void {
    for (const fd of this.fds) fs.closeSync(fd);
  }
}

export interface ReadStoreOptions {
  /** Check every file's sha256 (sizes are always checked). */
  verify?: boolean;
  /** Keep a float16 store's weights as halves (HalfTensor): half the host memory, widened when a model uploads them. */
  keepHalf?: boolean;
}

/**
 * Loads a store written by writeStore: the same config, preprocessor and weight set (names, shapes and layouts)
 * that readCheckpoint gives for the source, and its recorded fingerprint. File sizes and the weights' finiteness are
 * always checked, sha256 sums with `verify`.
 */
export function readStore(dir: string, opts?: ReadStoreOptions & { keepHalf?: false }): Checkpoint;
export function readStore(dir: string, opts: ReadStoreOptions): Checkpoint<HostWeightSet>;
export function readStore(dir: string, opts: ReadStoreOptions = {}): Checkpoint<HostWeightSet> {
  const info = readStoreInfo(dir);
  verifyStoreFiles(dir, info, opts.verify ?? false);
  const config = readModelConfig(dir);
  const preprocessor = readPreprocessorConfig(dir);
  const manifestFile = path.join(dir, STORE_MANIFEST);
  const { paths, weights } = parseManifest(manifestFile);
  const expected = new Map(expectedWeights(config).map((e) => [e.key, storedShape(e)]));
  const names = new Set<string>();
  for (const w of weights) {
    if (names.has(w.name)) throw new CheckpointError(`weight "${w.name}" is listed twice`, manifestFile);
    names.add(w.name);
    const shape = expected.get(w.name);
    if (!shape) throw new CheckpointError(`unexpected weight "${w.name}": store does not match config.json`, manifestFile);
    if (shape.length !== w.shape.length || shape.some((d, i) => d !== w.shape[i])) {
      throw new CheckpointError(
        `weight "${w.name}" has shape ${showJson(w.shape)}, expected ${JSON.stringify(shape)} from config.json`,
        manifestFile,
      );
    }
  }
  const missing = [...expected.keys()].find((k) => !names.has(k));
  if (missing) throw new CheckpointError(`missing weight "${missing}"`, manifestFile);
  for (const p of paths) if (!fs.existsSync(path.join(dir, p))) throw new CheckpointError('shard named by model.json is missing', path.join(dir, p));
  const reader = new ShardReader(paths.map((p) => path.join(dir, p)));
  try {
    const need = weights.reduce((a, w) => a + sizeOf(w.shape) * (w.quantization ? 2 : 4), 0);
    if (need !== reader.total) throw new CheckpointError(`shards hold ${reader.total} bytes, but the weights need ${need}`, manifestFile);
    const out: HostWeightSet = new Map();
    let pos = 0;
    for (const w of weights) {
      const len = sizeOf(w.shape) * (w.quantization ? 2 : 4);
      const bytes = reader.read(pos, len);
      // Only verify checks the sha256 sums; the finiteness checks cost ~0.1 s for 95 M weights.
      if (w.quantization && opts.keepHalf) {
        const half = new Uint16Array(bytes.buffer, bytes.byteOffset, len / 2); // read() returns a fresh, aligned buffer
        checkFiniteHalf(w.name, half, manifestFile);
        out.set(w.name, { shape: w.shape.slice(), half });
      } else {
        const data = decodeFloats(bytes, w.quantization ? 'F16' : 'F32');
        checkFinite(w.name, data, manifestFile);
        out.set(w.name, { shape: w.shape.slice(), data });
      }
      pos += len;
    }
    return { dir, weightFile: manifestFile, config, preprocessor, weights: out, fingerprint: info.fingerprint };
  } finally {
    reader.close();
  }
}
