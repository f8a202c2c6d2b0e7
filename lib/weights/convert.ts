/** HF checkpoint (local directory or hub id) → wavprobe weight store: what `wavprobe convert` does. */
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from '../errors';
import { openCheckpoint } from './checkpoint';
import { HubOptions, downloadCheckpoint, looksLikeHubId, parseHubId } from './hub';
import { STORE_DTYPES, StoreDtype, StoreInfo, writeStore } from './store';

export interface ConvertOptions {
  /** Storage dtype (default float32; float16 halves the size). */
  dtype?: StoreDtype;
  /** Which weight file of the source to read (default: the first of WEIGHT_FILES present). */
  weightFile?: string;
  hub?: HubOptions;
  shardBytes?: number;
  /** Store-writing progress in bytes. */
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertSummary {
  out: string;
  tensors: number;
  info: StoreInfo;
}

/** Converts `src` (an existing directory, else a hub id `org/name[@revision]`) into a new store at `out`. */
export async function convert(src: string, out: string, opts: ConvertOptions = {}): Promise<ConvertSummary> {
  const dtype = opts.dtype ?? 'float32';
  if (!STORE_DTYPES.includes(dtype)) throw new UsageError(`unknown dtype ${JSON.stringify(dtype)} (${STORE_DTYPES.join(' or ')})`);
  if (fs.existsSync(out)) throw new UsageError('output directory already exists (remove it or choose another)', out);
  let dir: string;
  let source: string;
  if (fs.existsSync(src)) {
    if (!fs.statSync(src).isDirectory()) throw new UsageError('not a checkpoint directory', src);
    dir = src;
    source = path.resolve(src);
  } else if (looksLikeHubId(src)) {
    const id = parseHubId(src);
    dir = await downloadCheckpoint(id, opts.hub);
    source = `${id.repo}@${id.revision}`;
  } else {
    throw new UsageError('no such directory, and not a hub id (org/name or org/name@revision)', src);
  }
  // Streamed: each weight is read, mapped, hashed into the fingerprint and written on its own, in one pass, so the
  // peak is about one weight, not the model.
  const ckpt = openCheckpoint(dir, { weightFile: opts.weightFile });
  try {
    const info = writeStore(out, ckpt, { dtype, source, shardBytes: opts.shardBytes, onProgress: opts.onProgress });
    return { out, tensors: [...ckpt.weights.keys()].length, info };
  } finally {
    ckpt.close();
  }
}
