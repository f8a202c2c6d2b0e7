/**
 * `pytorch_model.bin` as torch.save (≥ 1.6) writes it: a zip holding `<folder>/data.pkl` (the state dict, tensors
 * rebuilt by `torch._utils._rebuild_tensor_v2` from persistent storage ids) and `<folder>/data/<key>` (raw
 * little-endian storages). The folder name varies (`archive`, `pytorch_model`, …), so it is found, not assumed.
 * Storages are read by byte range through the file handle, so multi-GB checkpoints never sit in memory whole.
 */
import * as fs from 'fs';
import { CheckpointError } from '../errors';
import { showJson } from './json';
import { HostTensor, MAX_TENSOR_ELEMENTS, decodeFloats, sizeOf } from './tensor';
import { TensorReader } from './shards';
import { PickleGlobal, unpickle } from './unpickle';
import { ZipArchive, ZipEntry, closeZip, openZip, readEntry, readStoredRange } from './zip';

type FloatDtype = 'F32' | 'F16' | 'BF16';
const STORAGE_TYPES: Record<string, FloatDtype> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
};
const ELEMENT_BYTES: Record<FloatDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const REBUILD_PARAMETER_WITH_STATE = 'torch._utils._rebuild_parameter_with_state';
const ORDERED_DICT = 'collections.OrderedDict';
/** Every global a state dict of float tensors needs, and nothing else. */
export const TORCH_ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  ORDERED_DICT,
  REBUILD_TENSOR,
  REBUILD_PARAMETER,
  REBUILD_PARAMETER_WITH_STATE,
  ...Object.keys(STORAGE_TYPES),
]);
/** torch < 1.6 wrote a bare pickle stream starting with this magic number (PROTO 2, LONG1 0x1950a86a20f9469cfc6c). */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/** A state dict pickles to about 200 bytes a tensor: this is 80 000 tensors. */
const MAX_PICKLE_BYTES = 16 * 1024 * 1024;
/**
 * Broadcast (stride-0) and overlapping views hold more values than the storage bytes behind them, so a 1 KB file can
 * describe gigabytes: the tensors read may hold at most this many values more than the storages they view.
 */
export const MAX_REPEATED_VALUES = 2 ** 24;

/** A storage as its persistent id names it, resolved to its zip entry. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: FloatDtype,
    readonly numel: number,
    readonly entry: ZipEntry,
  ) {}
}

/** A tensor as data.pkl describes it: a strided view into a storage. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isIndexList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isIndex);

function looksLegacy(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(LEGACY_MAGIC.length);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return n === head.length && LEGACY_MAGIC.every((b, i) => head[i] === b);
  } finally {
    fs.closeSync(fd);
  }
}

/** The folder holding data.pkl: exactly one `<folder>/data.pkl` entry. */
function findPrefix(zip: ZipArchive): string {
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length === 0) throw new CheckpointError('not a PyTorch checkpoint: the zip has no <folder>/data.pkl', zip.file);
  if (pkls.length > 1)
    throw new CheckpointError(`not a single PyTorch checkpoint: the zip has ${pkls.length} data.pkl files (${pkls.join(', ')})`, zip.file);
  return pkls[0].slice(0, -'/data.pkl'.length);
}

/** Unpickles data.pkl into {name: value} with the torch allowlist; storages resolve to zip entries. */
function readStateDictRefs(zip: ZipArchive, prefix: string): Map<unknown, unknown> {
  const pklName = `${prefix}/data.pkl`;
  const pkl = zip.entries.get(pklName) as ZipEntry;
  if (pkl.size > MAX_PICKLE_BYTES) throw new CheckpointError(`${pklName} is ${pkl.size} bytes: too large for a state dict`, zip.file);
  const fail = (why: string): never => {
    throw new CheckpointError(`${pklName}: ${why}`, zip.file);
  };
  const storages = new Map<string, StorageRef>();
  const result = unpickle(
    readEntry(zip, pkl),
    {
      allowed: TORCH_ALLOWED_GLOBALS,
      reduce(fn: PickleGlobal, args: unknown[]): unknown {
        switch (fn.qualifiedName) {
          case ORDERED_DICT:
            if (args.length === 0) return new Map();
            return fail('OrderedDict built from arguments is not supported');
          case REBUILD_TENSOR: {
            const [storage, offset, size, stride] = args;
            if (!(storage instanceof StorageRef)) return fail(`${REBUILD_TENSOR} without a storage`);
            if (!isIndex(offset) || !isIndexList(size) || !isIndexList(stride) || size.length !== stride.length) {
              return fail(`${REBUILD_TENSOR} with a bad offset, size or stride`);
            }
            return new TensorRef(storage, offset, size, stride);
          }
          case REBUILD_PARAMETER:
          case REBUILD_PARAMETER_WITH_STATE:
            if (!(args[0] instanceof TensorRef)) return fail(`${fn.qualifiedName} without a tensor`);
            return args[0];
          default:
            return fail(`cannot call ${fn.qualifiedName}`);
        }
      },
      build(obj: unknown): unknown {
        // torch sets `_metadata` (module versions) on the state dict's OrderedDict; it carries no weights.
        if (obj instanceof Map) return obj;
        return fail('BUILD on something that is not a dict');
      },
      persistentLoad(pid: unknown): unknown {
        if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage')
          return fail('unsupported persistent id (torch writes ("storage", type, key, location, size))');
        const [, type, key, , numel] = pid;
        if (!(type instanceof PickleGlobal) || !(type.qualifiedName in STORAGE_TYPES)) return fail('storage without a float storage type');
        if (typeof key !== 'string' || !isIndex(numel)) return fail('storage with a bad key or size');
        const dtype = STORAGE_TYPES[type.qualifiedName];
        const seen = storages.get(key);
        if (seen) return seen.dtype === dtype && seen.numel === numel ? seen : fail(`storage "${key}" is named with two types or sizes`);
        const entry = zip.entries.get(`${prefix}/data/${key}`);
        if (!entry) return fail(`storage "${key}" has no entry ${prefix}/data/${key}`);
        if (entry.size !== numel * ELEMENT_BYTES[dtype]) {
          return fail(`storage "${key}" holds ${entry.size} bytes, but ${numel} ${type.name} elements need ${numel * ELEMENT_BYTES[dtype]}`);
        }
        const ref = new StorageRef(key, dtype, numel, entry);
        storages.set(key, ref);
        return ref;
      },
    },
    zip.file,
    pklName,
  );
  if (!(result instanceof Map)) return fail('not a state dict (the pickle is not a dict of tensors)');
  return result;
}

/** A checkpoint opened: the zip (close it with closeZip) and every tensor view, validated, before any data is read. */
function openTorchZip(file: string): { zip: ZipArchive; tensors: Map<string, TensorRef> } {
  let legacy: boolean;
  try {
    legacy = looksLegacy(file);
  } catch (e) {
    throw new CheckpointError(`cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  if (legacy)
    throw new CheckpointError('legacy (torch < 1.6) checkpoint format is not supported: re-save it with a current torch or as safetensors', file);
  const zip = openZip(file);
  try {
    const prefix = findPrefix(zip);
    const order = zip.entries.get(`${prefix}/byteorder`);
    if (order && Buffer.from(readEntry(zip, order)).toString().trim() !== 'little') {
      throw new CheckpointError('big-endian checkpoint is not supported', file);
    }
    const tensors = new Map<string, TensorRef>();
    for (const [name, t] of readStateDictRefs(zip, prefix)) {
      if (typeof name !== 'string') throw new CheckpointError(`${prefix}/data.pkl: state dict has a key that is not a string`, file);
      if (!(t instanceof TensorRef)) throw new CheckpointError(`${prefix}/data.pkl: "${name}" is not a tensor`, file);
      const n = sizeOf(t.shape);
      if (n > MAX_TENSOR_ELEMENTS)
        throw new CheckpointError(`tensor "${name}" has shape ${showJson(t.shape)}: more than ${MAX_TENSOR_ELEMENTS} values`, file);
      const last = lastIndex(t);
      if (n > 0 && last >= t.storage.numel) {
        throw new CheckpointError(`tensor "${name}" reaches element ${last} of storage "${t.storage.key}", which has ${t.storage.numel}`, file);
      }
      tensors.set(name, t);
    }
    return { zip, tensors };
  } catch (e) {
    closeZip(zip);
    throw e;
  }
}

/** The highest storage element a (non-empty) view uses. */
const lastIndex = (t: TensorRef): number => t.shape.reduce((acc, d, i) => acc + (d - 1) * t.stride[i], t.offset);

/** A view as a contiguous float32 tensor, from `span`: its storage's elements lo.. (read once for all its views). */
function gather(span: Float32Array, lo: number, t: TensorRef): HostTensor {
  const { shape, stride } = t;
  const n = sizeOf(shape);
  const start = t.offset - lo;
  if (n === 0) return { shape: shape.slice(), data: new Float32Array(0) };
  let contiguous = true;
  for (let i = shape.length - 1, expect = 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expect) contiguous = false;
    expect *= shape[i];
  }
  if (contiguous) return { shape: shape.slice(), data: start === 0 && n === span.length ? span : span.slice(start, start + n) };
  // Gather in row-major order with an odometer over the multi-index.
  const data = new Float32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  let src = start;
  for (let j = 0; j < n; j++) {
    data[j] = span[src];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        src += stride[d];
        break;
      }
      src -= (shape[d] - 1) * stride[d];
      idx[d] = 0;
    }
  }
  return { shape: shape.slice(), data };
}

/** Every tensor's name and shape, from data.pkl alone: no storage is read. */
export function listTorchZip(file: string): Map<string, number[]> {
  const { zip, tensors } = openTorchZip(file);
  closeZip(zip);
  return new Map([...tensors].map(([name, t]) => [name, t.shape.slice()]));
}

/** Elements lo..hi − 1 of a storage as float32 (a compressed entry is inflated whole). */
function readSpan(zip: ZipArchive, storage: StorageRef, lo: number, hi: number): Float32Array {
  if (hi <= lo) return new Float32Array(0);
  const es = ELEMENT_BYTES[storage.dtype];
  const e = storage.entry;
  return decodeFloats(
    e.method === 0 ? readStoredRange(zip, e, lo * es, (hi - lo) * es) : readEntry(zip, e).subarray(lo * es, hi * es),
    storage.dtype,
  );
}

/** The views `keep` selects, grouped by storage; refused when they hold MAX_REPEATED_VALUES more values than their storages. */
function wantedViews(file: string, tensors: Map<string, TensorRef>, keep: (name: string) => boolean): Map<StorageRef, [string, TensorRef][]> {
  const byStorage = new Map<StorageRef, [string, TensorRef][]>();
  let values = 0;
  for (const view of tensors) {
    if (!keep(view[0])) continue;
    values += sizeOf(view[1].shape);
    const views = byStorage.get(view[1].storage);
    if (views) views.push(view);
    else byStorage.set(view[1].storage, [view]);
  }
  let stored = 0;
  for (const s of byStorage.keys()) stored += s.numel;
  if (values > stored + MAX_REPEATED_VALUES) {
    throw new CheckpointError(
      `views expand ${stored} stored values to ${values}: broadcast or overlapping views may add at most ${MAX_REPEATED_VALUES}`,
      file,
    );
  }
  return byStorage;
}

/** Opens a torch.save zip for the names `keep` selects; each read reads only the storage span that one view covers. */
export function openTorchReader(file: string, keep: (name: string) => boolean = () => true): TensorReader {
  const { zip, tensors } = openTorchZip(file);
  let wanted: Map<string, TensorRef>;
  try {
    wanted = new Map([...wantedViews(file, tensors, keep).values()].flat());
  } catch (e) {
    closeZip(zip);
    throw e;
  }
  return {
    shapes: new Map([...tensors].filter(([name]) => wanted.has(name)).map(([name, t]) => [name, t.shape.slice()])),
    read(name) {
      const t = wanted.get(name);
      if (!t) throw new CheckpointError(`no tensor "${name}"`, file);
      if (sizeOf(t.shape) === 0) return { shape: t.shape.slice(), data: new Float32Array(0) };
      return gather(readSpan(zip, t.storage, t.offset, lastIndex(t) + 1), t.offset, t);
    },
    close: () => closeZip(zip),
  };
}

/** Reads a torch.save zip's float tensors (→ float32). `keep` selects names; others are never read. */
export function readTorchZip(file: string, keep: (name: string) => boolean = () => true): Map<string, HostTensor> {
  const { zip, tensors } = openTorchZip(file);
  try {
    const byStorage = wantedViews(file, tensors, keep);
    const wanted = [...tensors].filter(([name]) => keep(name));
    // Each storage is read once, as the span its views cover: a compressed one is inflated once, however many views it has.
    const read = new Map<string, HostTensor>();
    for (const [storage, views] of byStorage) {
      let lo = Infinity;
      let hi = 0;
      for (const [, t] of views) {
        if (sizeOf(t.shape) === 0) continue;
        lo = Math.min(lo, t.offset);
        hi = Math.max(hi, lastIndex(t) + 1);
      }
      const span = readSpan(zip, storage, lo, hi);
      for (const [name, t] of views) read.set(name, gather(span, lo, t));
    }
    return new Map(wanted.map(([name]) => [name, read.get(name) as HostTensor]));
  } finally {
    closeZip(zip);
  }
}
