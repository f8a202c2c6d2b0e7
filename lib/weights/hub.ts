/**
 * Hugging Face hub downloads: `{endpoint}/{repo}/resolve/{revision}/{file}` (endpoint from $HF_ENDPOINT, token from
 * $HF_TOKEN), into `<cache>/hub/<org>--<name>/<revision>/`. Only the files a conversion needs are fetched: the
 * configs, then the first weight layout the repository has (model.safetensors, its shard index + shards,
 * pytorch_model.bin, its shard index + shards). Redirects are followed to http(s) URLs only (the hub answers LFS
 * files with a 302 to a CDN, where the token is not sent).
 *
 * The server is not trusted: each file has a size limit (what the hub announces, what a safetensors index allows,
 * and a hard limit per kind), a download stops after a while without a byte and after a while in all, and a file
 * is kept only when its length and (for LFS files) sha256 match what was announced and a JSON file parses. Shard
 * names must be plain weight-file names. Bookkeeping lives in `.wavprobe/` (the completion record and `<file>.part`
 * downloads, which resume with an HTTP Range request): no name the hub can give starts with a dot.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { writeFileAtomic } from '../atomic';
import { DownloadError, UsageError } from '../errors';
import { cacheDir } from './cache';
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
  /** Largest JSON file (configs, shard indexes) accepted, in bytes. Default 16 MiB. */
  maxJsonBytes?: number;
  /** Largest weight file accepted, in bytes. Default 8 GiB. */
  maxWeightBytes?: number;
  /** A download that receives no byte for this long stops (resumable). Default 60 s. */
  idleTimeoutMs?: number;
  /** A file's download still running after this long stops (resumable). Default 1 h. */
  fileTimeoutMs?: number;
  onProgress?: (file: string, received: number, total: number | undefined) => void;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const HUB_DEFAULTS = { maxJsonBytes: 16 * 2 ** 20, maxWeightBytes: 8 * 2 ** 30, idleTimeoutMs: 60_000, fileTimeoutMs: 3_600_000 };
const BOOKKEEPING = '.wavprobe';
/** Written in a download folder once every needed file is there; its presence skips the network next time. */
export const DOWNLOAD_RECORD = `${BOOKKEEPING}/download.json`;
const partFile = (dest: string): string => path.join(path.dirname(dest), BOOKKEEPING, `${path.basename(dest)}.part`);
const NAME = '[A-Za-z0-9][A-Za-z0-9._-]*';
const HUB_ID = new RegExp(`^(${NAME}/${NAME})(?:@([A-Za-z0-9._/-]+))?$`);
const MAX_REDIRECTS = 10;
const HTTP = ['http:', 'https:'];

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

/** A size a file must not exceed, and what set it (for the message). */
export interface Limit {
  bytes: number;
  what: string;
}

const hardLimit = (file: string, o: HubOptions): Limit =>
  file.endsWith('.json')
    ? { bytes: o.maxJsonBytes ?? HUB_DEFAULTS.maxJsonBytes, what: 'the limit for a JSON file (maxJsonBytes)' }
    : { bytes: o.maxWeightBytes ?? HUB_DEFAULTS.maxWeightBytes, what: 'the limit for a weight file (maxWeightBytes)' };

interface Reply {
  res: http.IncomingMessage;
  /** An error the request reported after its response began, e.g. bytes past the Content-Length. */
  late?: Error;
}

interface Fetched extends Reply {
  /** sha256 the hub announces for an LFS file (x-linked-etag on the redirect), if any. */
  sha256?: string;
  /** Size the hub announces for an LFS file (x-linked-size on the redirect), if any. */
  size?: number;
}

/** One GET; it stops when `stop` is aborted, which it does itself after `idleMs` without a byte. */
function get(url: URL, headers: Record<string, string>, idleMs: number, stop: AbortController, file: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let got: Reply | undefined;
    const req = (url.protocol === 'https:' ? https : http).get(url, { headers, signal: stop.signal }, (res) => resolve((got = { res })));
    req.on('error', (e) => {
      if (got) return void (got.late ??= e);
      const why = stop.signal.aborted ? String(stop.signal.reason) : `cannot connect: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
      reject(new DownloadError(why, file));
    });
    req.setTimeout(idleMs, () => stop.abort(`no data for ${idleMs / 1000} s`));
  });
}

const sha256Etag = (h: http.IncomingHttpHeaders): string | undefined => {
  const tag = String(h['x-linked-etag'] ?? h['etag'] ?? '')
    .replace(/^W\//, '')
    .replace(/"/g, '');
  return /^[0-9a-f]{64}$/.test(tag) ? tag : undefined;
};

function linkedSize(h: http.IncomingHttpHeaders, file: string): number | undefined {
  const v = h['x-linked-size'];
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(String(v))) throw new DownloadError(`X-Linked-Size is not a byte count: ${JSON.stringify(v)}`, file);
  return Number(v);
}

/** GET with http(s) redirects followed; the token goes only to the origin it was meant for. */
async function fetchFollowing(start: string, headers: Record<string, string>, o: HubOptions, stop: AbortController): Promise<Fetched> {
  if (!URL.canParse(start) || !HTTP.includes(new URL(start).protocol)) throw new DownloadError('not an http or https URL', start);
  let url = new URL(start);
  const origin = url.origin;
  let sha256: string | undefined;
  let size: number | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const h = { ...headers, ...(o.token && url.origin === origin ? { Authorization: `Bearer ${o.token}` } : {}) };
    const got = await get(url, h, o.idleTimeoutMs ?? HUB_DEFAULTS.idleTimeoutMs, stop, start);
    sha256 ??= sha256Etag(got.res.headers);
    size ??= linkedSize(got.res.headers, start);
    const location = got.res.headers.location;
    if (![301, 302, 303, 307, 308].includes(got.res.statusCode ?? 0) || !location) return Object.assign(got, { sha256, size });
    got.res.destroy();
    if (!URL.canParse(location, url.href) || !HTTP.includes(new URL(location, url).protocol)) {
      throw new DownloadError(`redirected to ${location}; only http and https are followed`, start);
    }
    url = new URL(location, url);
  }
  throw new DownloadError(`more than ${MAX_REDIRECTS} redirects`, start);
}

function readJson(file: string, url: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DownloadError(`is not valid JSON (${(e as Error).message})`, url);
  }
}

/**
 * Downloads `url` to `dest` unless it is there already, resuming `.wavprobe/<file>.part`. Returns false on 404 (the
 * caller decides whether the file was optional); other failures are DownloadErrors. The size is capped by the hard
 * limit for the file's kind, or by `bound` (e.g. from a shard index) where that is smaller.
 */
export async function downloadFile(url: string, dest: string, opts: HubOptions = {}, bound?: Limit): Promise<boolean> {
  if (fs.existsSync(dest)) return true;
  const hard = hardLimit(dest, opts);
  const limit = bound && bound.bytes < hard.bytes ? bound : hard;
  fs.mkdirSync(path.dirname(partFile(dest)), { recursive: true });
  const stop = new AbortController();
  const ms = opts.fileTimeoutMs ?? HUB_DEFAULTS.fileTimeoutMs;
  const timer = setTimeout(() => stop.abort(`took more than ${ms / 1000} s`), ms);
  try {
    return await download(url, dest, opts, limit, stop);
  } finally {
    clearTimeout(timer);
    stop.abort(); // whatever happened, no request for this file stays open
  }
}

async function download(url: string, dest: string, opts: HubOptions, limit: Limit, stop: AbortController): Promise<boolean> {
  const part = partFile(dest);
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const got = await fetchFollowing(url, have > 0 ? { Range: `bytes=${have}-` } : {}, opts, stop);
  const { res } = got;
  const status = res.statusCode ?? 0;
  if (status === 404) return false;
  if (status === 401 || status === 403) {
    const why = res.headers['x-error-message'] ? `${res.headers['x-error-message']}` : 'not authorized';
    throw new DownloadError(`HTTP ${status}: ${why} (a gated or private repository? set HF_TOKEN to a token with access)`, url);
  }
  if (status === 416 && have > 0) {
    // The partial file is not a prefix of what the server has now: start over.
    fs.rmSync(part, { force: true });
    return download(url, dest, opts, limit, stop);
  }
  if (status !== 200 && status !== 206) throw new DownloadError(`HTTP ${status}`, url);
  const discard = (why: string): DownloadError => {
    fs.rmSync(part, { force: true });
    return new DownloadError(why, url);
  };
  let from = 0;
  let total: number | undefined;
  if (status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== have) {
      throw new DownloadError(`server resumed at the wrong place (Content-Range ${res.headers['content-range']}, have ${have} bytes)`, url);
    }
    from = have;
    if (m[2] !== '*') total = Number(m[2]);
  } else if (res.headers['content-length'] !== undefined) {
    total = Number(res.headers['content-length']);
  }
  if (got.size !== undefined && total !== undefined && got.size !== total) {
    throw discard(`is ${total} bytes, but the hub announced ${got.size} (X-Linked-Size)`);
  }
  const expected = got.size ?? total;
  if (expected !== undefined && expected > limit.bytes) throw discard(`is ${expected} bytes, more than ${limit.bytes}, ${limit.what}`);
  const cap = expected !== undefined ? { bytes: expected, what: 'the size announced' } : limit;
  // Written synchronously chunk by chunk, so every byte received is on disk when the connection drops.
  let received = from;
  let over = false;
  const name = path.basename(dest);
  const fd = fs.openSync(part, from > 0 ? 'a' : 'w');
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (received + chunk.length > cap.bytes) {
        over = true;
        break;
      }
      fs.writeSync(fd, chunk);
      received += chunk.length;
      opts.onProgress?.(name, received, expected);
    }
  } catch (e) {
    const why = stop.signal.aborted ? String(stop.signal.reason) : (e as Error).message;
    const of = expected !== undefined ? ` of ${expected}` : '';
    throw new DownloadError(`download interrupted after ${received}${of} bytes (${why}); run again to resume`, url);
  } finally {
    fs.closeSync(fd);
  }
  if (over) throw discard(`sent more than ${cap.bytes} bytes, ${cap.what}; removed`);
  if (expected !== undefined && received !== expected) {
    throw new DownloadError(`download ended after ${received} of ${expected} bytes; run again to resume`, url);
  }
  if (got.late) throw discard(`the response does not end where its Content-Length says (${got.late.message}); removed`);
  if (got.sha256 && sha256File(part) !== got.sha256) throw discard('downloaded file does not match the sha256 the hub announced; removed');
  if (dest.endsWith('.json')) {
    try {
      readJson(part, url);
    } catch (e) {
      throw discard(`${(e as DownloadError).reason}; removed`);
    }
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

/**
 * A safetensors shard holds tensor bytes (which an index's total_size counts) and a header: a JSON entry per tensor
 * (name, dtype, shape, offsets: well under 1 KiB) and some metadata. A .bin shard may hold the whole storage of a
 * view, more than total_size counts, so only safetensors shards are bounded by it.
 */
const HEADER_BYTES = 64 * 1024;
const HEADER_BYTES_PER_TENSOR = 1024;

/** The shards a downloaded index names, each a plain weight-file name of the index's kind, and a bound on each one's size. */
function indexedShards(index: string, url: string): { shards: string[]; bound?: Limit } {
  const j = readJson(index, url) as { weight_map?: unknown; metadata?: { total_size?: unknown } } | null;
  const map = j?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new DownloadError('has no "weight_map" object', url);
  const ext = path.extname(path.basename(index, '.index.json'));
  const plain = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]+)*\\${ext}$`);
  const shards = [...new Set(Object.values(map))];
  for (const s of shards) {
    if (typeof s !== 'string' || s.length > 200 || !plain.test(s) || WEIGHT_LAYOUTS.some((l) => l.file === s)) {
      throw new DownloadError(`names a shard that is not a plain ${ext} file name: ${JSON.stringify(s)}`, url);
    }
  }
  const totalSize = j?.metadata?.total_size;
  if (ext !== '.safetensors' || totalSize === undefined) return { shards };
  if (typeof totalSize !== 'number' || !Number.isSafeInteger(totalSize) || totalSize < 0) {
    throw new DownloadError(`metadata.total_size is not a byte count: ${JSON.stringify(totalSize)}`, url);
  }
  const bytes = totalSize + HEADER_BYTES + HEADER_BYTES_PER_TENSOR * Object.keys(map).length;
  return { shards, bound: { bytes, what: `what ${path.basename(index)}'s total_size allows` } };
}

/** Downloads what a conversion needs from a hub repository (or finds it cached); returns the local directory. */
export async function downloadCheckpoint(id: string | HubId, opts: HubOptions = {}): Promise<string> {
  const hub = typeof id === 'string' ? parseHubId(id) : id;
  const endpoint = opts.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT;
  const o: HubOptions = { ...opts, token: opts.token ?? (process.env.HF_TOKEN || undefined) };
  const dir = hubCacheDir(hub, opts.cacheDir ?? cacheDir());
  if (fs.existsSync(path.join(dir, DOWNLOAD_RECORD))) return dir;
  const url = (file: string) => hubUrl(endpoint, hub, file);
  const fetchFile = (file: string, bound?: Limit) => downloadFile(url(file), path.join(dir, file), o, bound);
  if (!(await fetchFile('config.json'))) {
    throw new DownloadError(`HTTP 404: no such repository or revision, or it has no config.json`, url('config.json'));
  }
  const files = ['config.json'];
  if (await fetchFile('preprocessor_config.json')) files.push('preprocessor_config.json');
  for (const { file, sharded } of WEIGHT_LAYOUTS) {
    if (!(await fetchFile(file))) continue;
    files.push(file);
    if (sharded) {
      const { shards, bound } = indexedShards(path.join(dir, file), url(file));
      for (const shard of shards) {
        if (!(await fetchFile(shard, bound))) throw new DownloadError(`HTTP 404: shard named by ${file} is missing`, url(shard));
        files.push(shard);
      }
    }
    const record = { repo: hub.repo, revision: hub.revision, endpoint, files, completed: new Date().toISOString() };
    writeFileAtomic(path.join(dir, DOWNLOAD_RECORD), JSON.stringify(record, null, 2) + '\n');
    return dir;
  }
  throw new DownloadError(`no weight file (looked for ${WEIGHT_LAYOUTS.map((l) => l.file).join(', ')})`, `${endpoint}/${hub.repo}`);
}
