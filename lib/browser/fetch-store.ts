/// <reference lib="dom" />
/**
 * Model stores, heads and audio from URLs into the engine's in-memory file system (shims/fs.ts), where the library
 * reads them as in Node. A store's files are the ones its wavprobe.json lists, each checked against the recorded
 * size and sha256 (Web Crypto) whether it came from the network or the Cache API, which keeps them for the next
 * load. A checked store then loads with readStore's own checks (manifest, shapes, finiteness).
 */
import { CheckpointError, DataError } from '../errors';
import { STORE_INFO, checkListedName, checkStoreFileHash, checkStoreFileSize, readStoreInfo } from '../weights/store';
import { existsSync, putFile, removeFiles } from './shims/fs';

export const CACHE_NAME = 'wavprobe-stores-v1';

/** Bytes fetched so far of everything asked for. */
export type Progress = (p: { loaded: number; total: number; file: string }) => void;

const hex = (buf: ArrayBuffer): string => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

export async function sha256(bytes: Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** A URL's bytes; a failed request names the URL and the status. `onChunk` sees each chunk's length. */
export async function fetchBytes(
  url: string,
  onChunk?: (n: number) => void,
  error = (r: string, f: string) => new DataError(r, f),
): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw error(`cannot fetch: ${(e as Error).message}`, url);
  }
  if (!res.ok) throw error(`cannot fetch: HTTP ${res.status} ${res.statusText}`, url);
  if (!res.body || !onChunk) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  const reader = res.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    chunks.push(r.value);
    onChunk(r.value.length);
  }
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.length) - c.length);
  return out;
}

async function openCache(): Promise<Cache | undefined> {
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return undefined; // no Cache API here (an insecure origin): every load fetches
  }
}

/** The vfs folder a store URL is kept under. */
export const storeDir = (url: string): string => `/stores/${encodeURIComponent(url)}`;

/**
 * Fetches the store at `url` (its folder) into the file system, unless its files are there already; returns the
 * folder. Each file is checked against wavprobe.json before it is kept or cached.
 */
export async function fetchStore(url: string, onProgress?: Progress): Promise<string> {
  const folder = new URL(url);
  if (!folder.pathname.endsWith('/')) folder.pathname += '/';
  const base = new URL('./', folder).href; // the folder, without query or fragment: file URLs resolve against it
  const dir = storeDir(base);
  const infoUrl = base + STORE_INFO;
  putFile(`${dir}/${STORE_INFO}`, await fetchBytes(infoUrl, undefined, (r, f) => new CheckpointError(r, f)));
  const info = readStoreInfo(dir); // format, version and the file list, in the Node reader's words
  const entries = Object.entries(info.files);
  for (const [name] of entries) checkListedName(name, infoUrl);
  const total = entries.reduce((a, [, f]) => a + f.bytes, 0);
  let loaded = 0;
  const cache = await openCache();
  for (const [name, want] of entries) {
    const file = `${dir}/${name}`;
    if (existsSync(file)) {
      loaded += want.bytes;
      continue;
    }
    onProgress?.({ loaded, total, file: name });
    // The key holds the sha256, so a store rewritten in place is never served from an old entry.
    const key = `${base}${name}?sha256=${want.sha256}`;
    const hit = await cache?.match(key);
    let bytes: Uint8Array;
    if (hit) bytes = new Uint8Array(await hit.arrayBuffer());
    else
      bytes = await fetchBytes(
        base + name,
        (n) => onProgress?.({ loaded: (loaded += n), total, file: name }),
        (r, f) => new CheckpointError(r, f),
      );
    if (hit) loaded += bytes.length;
    checkStoreFileSize(base + name, want, bytes.length);
    checkStoreFileHash(base + name, want, await sha256(bytes));
    if (!hit) await cache?.put(key, new Response(bytes as Uint8Array<ArrayBuffer>)).catch(() => undefined); // a full cache only costs the next load a fetch
    putFile(file, bytes);
    onProgress?.({ loaded, total, file: name });
  }
  onProgress?.({ loaded: total, total, file: '' }); // done (files already here were counted without a call)
  return dir;
}

/** Drops a store's weight shards from memory once the model holds the weights (config and info stay). */
export const releaseShards = (dir: string): void => removeFiles(dir, (name) => name.endsWith('.bin'));
