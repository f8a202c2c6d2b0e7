/**
 * Hugging Face hub downloads: `{endpoint}/{repo}/resolve/{revision}/{file}` (endpoint from $HF_ENDPOINT, token from
 * $HF_TOKEN), into `<cache>/hub/<org>--<name>/<revision>/`. Only the files a conversion needs are fetched: the
 * configs, then the first weight layout the repository has (model.safetensors, its shard index + shards,
 * pytorch_model.bin, its shard index + shards). Downloads go to `<file>.part` and resume with an HTTP Range
 * request; redirects are followed (the hub answers LFS files with a 302 to a CDN, where the token is not sent).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { writeFileAtomic } from '../atomic';
import { DownloadError, UsageError } from '../errors';
import { cacheDir } from './cache';
import { shardFiles } from './shards';
import { sha256File } from './store';

export interface HubId {
  /** `org/name` */
  repo: string;
  revision: string;
}

export interface HubOptions {
  /** Default $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default $HF_TOKEN. Sent as `Authorization: Bearer …` to the endpoint only. */
  token?: string;
  /** Default cacheDir(). */
  cacheDir?: string;
  onProgress?: (file: string, received: number, total: number | undefined) => void;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Recorded in a download folder once every needed file is there; its presence skips the network next time. */
export const DOWNLOAD_RECORD = 'wavprobe-download.json';
const NAME = '[A-Za-z0-9][A-Za-z0-9._-]*';
const HUB_ID = new RegExp(`^(${NAME}/${NAME})(?:@([A-Za-z0-9._/-]+))?$`);
const MAX_REDIRECTS = 10;

export const looksLikeHubId = (s: string): boolean => HUB_ID.test(s) && !s.includes('..');

/** `org/name` or `org/name@revision` (revision default `main`). */
export function parseHubId(s: string): HubId {
  const m = HUB_ID.exec(s);
  if (!m || s.includes('..')) throw new UsageError('not a hub id (expected org/name or org/name@revision)', s);
  return { repo: m[1], revision: m[2] ?? 'main' };
}

export const hubUrl = (endpoint: string, id: HubId, file: string): string =>
  `${endpoint.replace(/\/+$/, '')}/${id.repo}/resolve/${encodeURIComponent(id.revision)}/${file}`;

/** Where a repository revision is cached. */
export const hubCacheDir = (id: HubId, cache = cacheDir()): string =>
  path.join(cache, 'hub', id.repo.replace('/', '--'), id.revision.replace(/\//g, '--'));

interface Fetched {
  res: http.IncomingMessage;
  /** sha256 the hub announces for an LFS file (x-linked-etag on the redirect), if any. */
  sha256?: string;
}

function get(url: URL, headers: Record<string, string>): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).get(url, { headers }, resolve);
    req.on('error', (e) => reject(new DownloadError(`cannot connect: ${(e as NodeJS.ErrnoException).code ?? e.message}`, url.href)));
    req.setTimeout(120_000, () => req.destroy(new Error('no data for 120 s')));
  });
}

const sha256Etag = (h: http.IncomingHttpHeaders): string | undefined => {
  const tag = String(h['x-linked-etag'] ?? h['etag'] ?? '').replace(/^W\//, '').replace(/"/g, '');
  return /^[0-9a-f]{64}$/.test(tag) ? tag : undefined;
};

/** GET with redirects followed; the token goes only to the origin it was meant for. */
async function fetchFollowing(start: string, headers: Record<string, string>, token?: string): Promise<Fetched> {
  const origin = new URL(start).origin;
  let url = new URL(start);
  let sha256: string | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const h = { ...headers, ...(token && url.origin === origin ? { Authorization: `Bearer ${token}` } : {}) };
    const res = await get(url, h);
    sha256 ??= sha256Etag(res.headers);
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
      res.resume();
      url = new URL(res.headers.location, url);
      continue;
    }
    return { res, sha256 };
  }
  throw new DownloadError(`more than ${MAX_REDIRECTS} redirects`, start);
}

/**
 * Downloads `url` to `dest` unless it is there already, resuming `<dest>.part`. Returns false on 404 (the caller
 * decides whether the file was optional); other failures are DownloadErrors.
 */
export async function downloadFile(url: string, dest: string, opts: HubOptions = {}): Promise<boolean> {
  if (fs.existsSync(dest)) return true;
  const part = `${dest}.part`;
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const { res, sha256 } = await fetchFollowing(url, have > 0 ? { Range: `bytes=${have}-` } : {}, opts.token);
  const status = res.statusCode ?? 0;
  if (status !== 200 && status !== 206) res.resume();
  if (status === 404) return false;
  if (status === 401 || status === 403) {
    const why = res.headers['x-error-message'] ? `${res.headers['x-error-message']}` : 'not authorized';
    throw new DownloadError(`HTTP ${status}: ${why} (a gated or private repository? set HF_TOKEN to a token with access)`, url);
  }
  if (status === 416) {
    // The partial file is not a prefix of what the server has now: start over.
    fs.rmSync(part, { force: true });
    return downloadFile(url, dest, opts);
  }
  if (status !== 200 && status !== 206) throw new DownloadError(`HTTP ${status}`, url);
  let from = 0;
  let total: number | undefined;
  if (status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== have) {
      res.destroy();
      throw new DownloadError(`server resumed at the wrong place (Content-Range ${res.headers['content-range']}, have ${have} bytes)`, url);
    }
    from = have;
    if (m[2] !== '*') total = Number(m[2]);
  } else if (res.headers['content-length'] !== undefined) {
    total = Number(res.headers['content-length']);
  }
  // Written synchronously chunk by chunk, so every byte received is on disk when the connection drops.
  let received = from;
  const name = path.basename(dest);
  const fd = fs.openSync(part, from > 0 ? 'a' : 'w');
  try {
    for await (const chunk of res) {
      fs.writeSync(fd, chunk as Buffer);
      received += (chunk as Buffer).length;
      opts.onProgress?.(name, received, total);
    }
  } catch (e) {
    throw new DownloadError(`download interrupted after ${received}${total ? ` of ${total}` : ''} bytes (${(e as Error).message}); run again to resume`, url);
  } finally {
    fs.closeSync(fd);
  }
  const size = fs.statSync(part).size;
  if (total !== undefined && size !== total) {
    throw new DownloadError(`download ended after ${size} of ${total} bytes; run again to resume`, url);
  }
  if (sha256 && sha256File(part) !== sha256) {
    fs.rmSync(part, { force: true });
    throw new DownloadError('downloaded file does not match the sha256 the hub announced (removed; run again)', url);
  }
  fs.renameSync(part, dest);
  return true;
}

const WEIGHT_LAYOUTS: { file: string; sharded: boolean }[] = [
  { file: 'model.safetensors', sharded: false },
  { file: 'model.safetensors.index.json', sharded: true },
  { file: 'pytorch_model.bin', sharded: false },
  { file: 'pytorch_model.bin.index.json', sharded: true },
];

/** Downloads what a conversion needs from a hub repository (or finds it cached); returns the local directory. */
export async function downloadCheckpoint(id: string | HubId, opts: HubOptions = {}): Promise<string> {
  const hub = typeof id === 'string' ? parseHubId(id) : id;
  const endpoint = opts.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT;
  const o: HubOptions = { ...opts, token: opts.token ?? (process.env.HF_TOKEN || undefined) };
  const dir = hubCacheDir(hub, opts.cacheDir ?? cacheDir());
  if (fs.existsSync(path.join(dir, DOWNLOAD_RECORD))) return dir;
  fs.mkdirSync(dir, { recursive: true });
  const fetchFile = (file: string) => downloadFile(hubUrl(endpoint, hub, file), path.join(dir, file), o);
  if (!(await fetchFile('config.json'))) {
    throw new DownloadError(`HTTP 404: no such repository or revision, or it has no config.json`, hubUrl(endpoint, hub, 'config.json'));
  }
  const files = ['config.json'];
  if (await fetchFile('preprocessor_config.json')) files.push('preprocessor_config.json');
  for (const { file, sharded } of WEIGHT_LAYOUTS) {
    if (!(await fetchFile(file))) continue;
    files.push(file);
    if (sharded) {
      for (const shard of shardFiles(path.join(dir, file))) {
        if (!(await fetchFile(shard))) throw new DownloadError(`HTTP 404: shard named by ${file} is missing`, hubUrl(endpoint, hub, shard));
        files.push(shard);
      }
    }
    const record = { repo: hub.repo, revision: hub.revision, endpoint, files, completed: new Date().toISOString() };
    writeFileAtomic(path.join(dir, DOWNLOAD_RECORD), JSON.stringify(record, null, 2) + '\n');
    return dir;
  }
  throw new DownloadError(`no weight file (looked for ${WEIGHT_LAYOUTS.map((l) => l.file).join(', ')})`, `${endpoint}/${hub.repo}`);
}
