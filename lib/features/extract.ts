/**
 * Extraction: dataset items → pooled features of every requested layer → a feature store.
 *
 * Resumable and atomic. Work goes into `<out>.partial/`, a journal written in plan order:
 *   plan.json      what is being extracted (front-end, layers, items digest, options): a rerun must match it
 *   features.f32   one fixed-size record per processed item (all layers, float32; zeros for a failed item)
 *   info.jsonl     one line per processed item: {"i", "duration_s"} or {"i", "error"}
 *   status.bin     one byte per processed item, written last: the commit point of that item
 * Killed at any moment, a rerun truncates the journal to the committed items and goes on; the finished store is
 * written to a temporary directory, renamed to `<out>`, and is byte-identical to an uninterrupted run.
 * `shard` takes a contiguous block of the items, so merging shards in shard order restores the original order.
 * One writer per output: `<out>.lock` (lib/lock.ts) is held from the first check to the final rename.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { BackendName } from '../backend';
import { onFile, writeFileAtomic } from '../atomic';
import { loadAudio } from '../audio';
import { readCsv, writeCsv } from '../data/csv';
import type { DatasetItem } from '../data';
import { DataError, WavprobeError } from '../errors';
import { Lock, acquireLock, removeStaleTemps } from '../lock';
import type { FrontEndInfo, FrontEndSpec, PooledFrontEnd } from './frontend';
import { describeFrontEnd, openFrontEnd } from './frontends';
import { firstNonFinite } from './pool';
import { LayerArray, StoreMeta, readMeta, readStore, writeStore } from './store';

export interface Shard {
  index: number; // 0-based
  count: number;
}

export interface ExtractOptions {
  /** Only the first S seconds of each file. */
  maxSeconds?: number;
  /**
   * Worker threads, each with its own backend instance and copy of the model (default 1: this thread). Only for
   * a FrontEndSpec; the store is the same, byte for byte, whatever the count.
   */
  workers?: number;
  /** Backend of the workers (default wasm). */
  backend?: BackendName;
  shard?: Shard;
  onProgress?: (p: ExtractProgress) => void;
  /** Checked between files: when it returns true, extraction stops cleanly (the journal keeps what is done). */
  shouldStop?: () => boolean;
}

export interface ExtractProgress {
  done: number;
  total: number;
  failed: number;
  audioSeconds: number;
  elapsedS: number;
}

export interface ExtractSummary {
  out: string;
  total: number;
  ok: number;
  failed: number;
  /** False when stopped early; rerun to continue. */
  complete: boolean;
}

export const ERRORS_FILE = 'errors.csv';

/** Parses `i/n` (0-based i) as used by `--shard`. */
export function parseShard(spec: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : null;
  if (!shard || shard.count < 1 || shard.index >= shard.count) throw new DataError(`--shard must be i/n with 0 ≤ i < n, got "${spec}"`);
  return shard;
}

/** The contiguous block of items shard i/n takes. */
export function shardItems<T>(items: T[], shard?: Shard): T[] {
  if (!shard) return items;
  const lo = Math.floor((shard.index * items.length) / shard.count);
  const hi = Math.floor(((shard.index + 1) * items.length) / shard.count);
  return items.slice(lo, hi);
}

interface Plan {
  frontEnd: string;
  fingerprint: string | null;
  layers: number[];
  dims: number[];
  pooling: string;
  maxSeconds: number | null;
  shard: Shard | null;
  items: number;
  digest: string;
}

function makePlan(items: DatasetItem[], fe: FrontEndInfo, opts: ExtractOptions): Plan {
  const h = crypto.createHash('sha256');
  for (const it of items) h.update(`${it.id}\0${it.path}\0${it.label}\n`);
  return {
    frontEnd: fe.id,
    fingerprint: fe.fingerprint,
    layers: fe.layers,
    dims: fe.dims,
    pooling: fe.pooling,
    maxSeconds: opts.maxSeconds ?? null,
    shard: opts.shard ?? null,
    items: items.length,
    digest: h.digest('hex'),
  };
}

interface ItemInfo {
  i: number;
  duration_s?: number;
  error?: string;
}

/** The journal of a partial extraction, opened for appending after dropping anything not committed. */
class Journal {
  readonly featuresFile: string;
  readonly infoFile: string;
  readonly statusFile: string;
  readonly committed: number;
  readonly infos: ItemInfo[];

  constructor(
    readonly dir: string,
    plan: Plan,
    private readonly recordBytes: number,
  ) {
    this.featuresFile = path.join(dir, 'features.f32');
    this.infoFile = path.join(dir, 'info.jsonl');
    this.statusFile = path.join(dir, 'status.bin');
    const planFile = path.join(dir, 'plan.json');
    const planText = JSON.stringify(plan);
    if (fs.existsSync(planFile)) {
      if (fs.readFileSync(planFile, 'utf8') !== planText) {
        throw new DataError('an extraction with other settings or other files was started here; rerun it as it was, or delete this folder', dir);
      }
    } else {
      fs.mkdirSync(dir, { recursive: true });
      writeFileAtomic(planFile, planText);
    }
    this.committed = fs.existsSync(this.statusFile) ? fs.statSync(this.statusFile).size : 0;
    // Drop whatever was written after the last commit.
    fs.writeFileSync(this.featuresFile, '', { flag: 'a' });
    fs.truncateSync(this.featuresFile, this.committed * recordBytes);
    if (fs.statSync(this.featuresFile).size !== this.committed * recordBytes) {
      throw new DataError(`journal is shorter than its ${this.committed} committed items; delete this folder and start again`, dir);
    }
    this.infos = [];
    if (fs.existsSync(this.infoFile)) {
      for (const line of fs.readFileSync(this.infoFile, 'utf8').split('\n')) {
        if (!line) continue;
        let info: ItemInfo;
        try {
          info = JSON.parse(line);
        } catch {
          continue; // a line cut by a kill: its item was not committed
        }
        if (info.i === this.infos.length && info.i < this.committed) this.infos.push(info);
      }
    }
    if (this.infos.length !== this.committed) throw new DataError('journal info.jsonl misses committed items; delete this folder and start again', dir);
    writeFileAtomic(this.infoFile, this.infos.map((x) => JSON.stringify(x) + '\n').join(''));
    // Kept open: one write per file per item, not an open/write/close each (the main thread's share of a fast run).
    this.fds = [this.featuresFile, this.infoFile, this.statusFile].map((f) => fs.openSync(f, 'a'));
  }

  private fds: number[];

  /** Appends one item; the status byte goes last so a kill before it leaves the item uncommitted. */
  append(record: Float32Array, info: ItemInfo): void {
    if (record.byteLength !== this.recordBytes) throw new Error('record size mismatch');
    const [features, infos, status] = this.fds;
    onFile(this.featuresFile, () => fs.writeSync(features, new Uint8Array(record.buffer, record.byteOffset, record.byteLength)));
    onFile(this.infoFile, () => fs.writeSync(infos, JSON.stringify(info) + '\n'));
    onFile(this.statusFile, () => fs.writeSync(status, new Uint8Array([info.error === undefined ? 1 : 2])));
    this.infos.push(info);
  }

  close(): void {
    for (const fd of this.fds) fs.closeSync(fd);
    this.fds = [];
  }
}

/** Extracts pooled features for `items` (all of them, or one shard) into the store `out`. */
export async function extractFeatures(
  items: DatasetItem[],
  frontEnd: PooledFrontEnd | FrontEndSpec,
  out: string,
  opts: ExtractOptions = {},
): Promise<ExtractSummary> {
  const mine = shardItems(items, opts.shard);
  const info = 'pool' in frontEnd ? frontEnd : describeFrontEnd(frontEnd);
  const plan = makePlan(mine, info, opts);
  const lock = acquireLock(out);
  try {
    removeStaleTemps(out);
    const done = finishedStore(out, plan);
    if (done) return { ...done, total: mine.length, ok: mine.length - done.failed };
    return await extractInto(mine, frontEnd, info, plan, out, lock, opts);
  } finally {
    lock.release();
  }
}

/** A store already finished by the same plan (a rerun after completion), or null when `out` does not exist yet. */
function finishedStore(out: string, plan: Plan): { out: string; failed: number; complete: true } | null {
  if (!fs.existsSync(out)) return null;
  let meta: StoreMeta | null;
  try {
    meta = readMeta(out);
  } catch (e) {
    throw new DataError(`output folder holds a corrupt feature store (${(e as DataError).reason}); delete it and rerun, or choose another --out`, out);
  }
  if (!meta) throw new DataError('output path exists and is not a finished feature store; choose another --out', out);
  if (!meta.extraction || JSON.stringify(meta.extraction) !== JSON.stringify(plan)) {
    throw new DataError('output folder already holds a different feature store; choose another --out', out);
  }
  const failed = fs.existsSync(path.join(out, ERRORS_FILE)) ? readCsv(path.join(out, ERRORS_FILE)).rows.length : 0; // error texts may hold newlines
  return { out, failed, complete: true };
}

async function extractInto(
  mine: DatasetItem[],
  frontEnd: PooledFrontEnd | FrontEndSpec,
  info: FrontEndInfo,
  plan: Plan,
  out: string,
  lock: Lock,
  opts: ExtractOptions,
): Promise<ExtractSummary> {
  const record = new Float32Array(info.dims.reduce((a, b) => a + b, 0));
  const journal = new Journal(`${out}.partial`, plan, record.byteLength);
  const runner = openRunner(frontEnd, opts);
  const started = Date.now();
  let audioSeconds = 0;
  let failed = journal.infos.filter((x) => x.error !== undefined).length;
  // Files run ahead on the workers, queued so that no worker waits for a slower neighbour's file to be committed;
  // results are committed strictly in item order.
  const pending: Promise<PoolFileResult>[] = [];
  let next = journal.committed;
  try {
    for (let i = journal.committed; i < mine.length; i++) {
      while (pending.length < runner.inFlight && next < mine.length && !opts.shouldStop?.()) {
        pending.push(runner.run(mine[next++].path, opts.maxSeconds));
      }
      if (pending.length === 0) return { out, total: mine.length, ok: i - failed, failed, complete: false };
      const r = await pending.shift()!;
      record.fill(0);
      if ('error' in r) failed++;
      else {
        let off = 0;
        for (const v of r.vectors) {
          record.set(v, off);
          off += v.length;
        }
        audioSeconds += r.durationS;
      }
      journal.append(record, 'error' in r ? { i, error: r.error } : { i, duration_s: Number(r.durationS.toFixed(4)) });
      opts.onProgress?.({ done: i + 1, total: mine.length, failed, audioSeconds, elapsedS: (Date.now() - started) / 1000 });
    }
  } finally {
    journal.close();
    await Promise.allSettled(pending);
    await runner.close();
  }
  finishStore(mine, info, plan, journal, out, lock);
  return { out, total: mine.length, ok: mine.length - failed, failed, complete: true };
}

export type PoolFileResult = { vectors: Float32Array[]; durationS: number } | { error: string };

/** The unit of work: decode one file, keep its first `maxSeconds`, pool it. Unreadable audio is a result, not a throw. */
export async function poolFile(fe: PooledFrontEnd, file: string, maxSeconds?: number): Promise<PoolFileResult> {
  try {
    const audio = await loadAudio(file, { minSamples: fe.minSamples });
    const samples = maxSeconds ? audio.samples.subarray(0, Math.round(maxSeconds * audio.sampleRate)) : audio.samples;
    const { vectors } = await fe.pool(samples);
    const bad = firstNonFinite(vectors, fe.layers);
    if (bad) return { error: bad };
    return { vectors, durationS: samples.length / audio.sampleRate };
  } catch (e) {
    if (e instanceof WavprobeError) return { error: e.reason };
    throw e;
  }
}

interface Runner {
  /** How many files may be queued or running at once. */
  inFlight: number;
  run(file: string, maxSeconds?: number): Promise<PoolFileResult>;
  close(): Promise<void>;
}

function openRunner(frontEnd: PooledFrontEnd | FrontEndSpec, opts: ExtractOptions): Runner {
  const workers = opts.workers ?? 1;
  if ('pool' in frontEnd || workers <= 1) {
    const fe = 'pool' in frontEnd ? frontEnd : openFrontEnd(frontEnd);
    return { inFlight: 1, run: (file, s) => poolFile(fe, file, s), close: async () => (fe === frontEnd ? undefined : fe.dispose()) };
  }
  return new WorkerPool(frontEnd, workers, opts.backend ?? 'wasm');
}

/** A file queued on a worker: how to settle its promise. */
type QueuedFile = { resolve: (r: PoolFileResult) => void; reject: (e: Error) => void };

/**
 * Worker threads running poolFile. Each worker holds up to `perWorker` files (it runs them one after another), so
 * it never idles while the main thread is busy committing a result.
 */
class WorkerPool implements Runner {
  readonly inFlight: number;
  private readonly workers: { w: Worker; jobs: Map<number, QueuedFile> }[];
  private nextId = 0;

  constructor(spec: FrontEndSpec, count: number, backend: BackendName, perWorker = 4) {
    this.inFlight = perWorker * count;
    // Under ts-jest/tsx this module is TypeScript: the worker then needs tsx's loader.
    const ts = __filename.endsWith('.ts');
    this.workers = Array.from({ length: count }, () => {
      const w = new Worker(path.join(__dirname, `extract-worker${ts ? '.ts' : '.js'}`), { workerData: { spec, backend }, execArgv: ts ? ['--require', 'tsx/cjs'] : [] });
      const jobs = new Map<number, QueuedFile>();
      w.on('message', (m: { id: number; result?: PoolFileResult; fatal?: { reason?: string; file?: string; crash?: string } }) => {
        const job = jobs.get(m.id);
        jobs.delete(m.id);
        if (!m.fatal) job?.resolve(m.result!);
        else job?.reject(m.fatal.crash !== undefined ? new Error(`extraction worker: ${m.fatal.crash}`) : new WavprobeError(m.fatal.reason!, m.fatal.file));
      });
      w.on('error', (e: Error) => {
        for (const job of jobs.values()) job.reject(e);
        jobs.clear();
      });
      return { w, jobs };
    });
  }

  /** Queues the file on the worker with the fewest files. */
  run(file: string, maxSeconds?: number): Promise<PoolFileResult> {
    const target = this.workers.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    const id = this.nextId++;
    return new Promise<PoolFileResult>((resolve, reject) => {
      target.jobs.set(id, { resolve, reject });
      target.w.postMessage({ id, file, maxSeconds });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(({ w }) => w.terminate()));
  }
}

/** Builds the store from a complete journal in a temporary folder, renames it into place, drops the journal. */
function finishStore(items: DatasetItem[], fe: FrontEndInfo, plan: Plan, journal: Journal, out: string, lock: Lock): void {
  const recordFloats = fe.dims.reduce((a, b) => a + b, 0);
  const raw = fs.readFileSync(journal.featuresFile); // may be a view into Node's shared pool: copy exactly its bytes
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)); // [items, recordFloats]
  const okRows = journal.infos.filter((x) => x.error === undefined).map((x) => x.i);
  const layers = new Map<number, LayerArray>();
  let off = 0;
  fe.layers.forEach((layer, li) => {
    const d = fe.dims[li];
    const data = new Float32Array(okRows.length * d); // [N_ok, d]
    okRows.forEach((i, r) => data.set(all.subarray(i * recordFloats + off, i * recordFloats + off + d), r * d));
    layers.set(layer, { data, n: okRows.length, d });
    off += d;
  });
  const index = okRows.map((i) => indexRow(items[i], journal.infos[i].duration_s!));
  const meta: StoreMeta = { model: fe.id, model_fingerprint: fe.fingerprint, layers: fe.layers, pooling: fe.pooling, extraction: plan };
  if (okRows.length === 0) throw new DataError(`no file could be read (${items.length} failed; see ${journal.infoFile})`, out);
  const errors = journal.infos.filter((x) => x.error !== undefined).map((x) => ({ id: items[x.i].id, path: items[x.i].path, error: x.error! }));
  writeStoreAtomic(out, { index, layers, meta }, errors, lock);
  fs.rmSync(journal.dir, { recursive: true, force: true });
}

/**
 * Writes a whole store into `<out>.tmp-<pid>` and renames it to `out`, so `out` is complete or absent. On failure
 * (a full disk, say) the temporary folder goes and the journal stays for a rerun.
 */
function writeStoreAtomic(out: string, store: Parameters<typeof writeStore>[1], errors: Record<string, string>[], lock: Lock): void {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    writeStore(tmp, store);
    if (errors.length) writeCsv(path.join(tmp, ERRORS_FILE), ['id', 'path', 'error'], errors);
    lock.assertHeld();
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function indexRow(item: DatasetItem, durationS: number): Record<string, string | number> {
  const row: Record<string, string | number> = { id: item.id, label: item.label, path: item.path, duration_s: durationS };
  if (item.speaker !== undefined) row.speaker = item.speaker;
  if (item.attack !== undefined) row.attack = item.attack;
  for (const [k, v] of Object.entries(item.extra ?? {})) if (!(k in row)) row[k] = v;
  return row;
}

/**
 * Joins shard stores (`extract --shard i/n`) into one store in the original item order. Every shard of the same
 * extraction must be there once; the result is written atomically like an unsharded store.
 */
export function mergeStores(shardDirs: string[], out: string): { rows: number; shards: number } {
  const lock = acquireLock(out);
  try {
    removeStaleTemps(out);
    return mergeInto(shardDirs, out, lock);
  } finally {
    lock.release();
  }
}

function mergeInto(shardDirs: string[], out: string, lock: Lock): { rows: number; shards: number } {
  if (fs.existsSync(out)) throw new DataError('output path exists; choose another --out', out);
  const shards = shardDirs.map((dir) => {
    const file = path.join(dir, 'meta.json');
    if (!fs.existsSync(file)) throw new DataError('not a shard store: meta.json is missing', dir);
    const plan = readMeta(dir)!.extraction as Plan | undefined;
    if (!plan?.shard) throw new DataError('not a shard store (extracted without --shard)', dir);
    return { dir, plan };
  });
  const count = shards[0].plan.shard!.count;
  shards.sort((a, b) => a.plan.shard!.index - b.plan.shard!.index);
  shards.forEach((s, i) => {
    const p = s.plan;
    if (p.shard!.count !== count || p.shard!.index !== i) throw new DataError(`expected shards 0…${count - 1} of ${count} once each, got ${p.shard!.index}/${p.shard!.count}`, s.dir);
    if (p.frontEnd !== shards[0].plan.frontEnd || p.fingerprint !== shards[0].plan.fingerprint || JSON.stringify(p.layers) !== JSON.stringify(shards[0].plan.layers) || p.maxSeconds !== shards[0].plan.maxSeconds) {
      throw new DataError('shard was extracted with another model, layers or --max-seconds than shard 0', s.dir);
    }
  });
  if (shards.length !== count) throw new DataError(`${shards.length} shard stores given, the extraction has ${count}`);
  const stores = shards.map((s) => readStore(s.dir));
  const layers = new Map<number, LayerArray>();
  for (const k of stores[0].layers.keys()) {
    const parts = stores.map((s) => s.layers.get(k)!);
    const n = parts.reduce((a, p) => a + p.n, 0);
    const data = new Float32Array(n * parts[0].d); // [N, d]
    let off = 0;
    for (const p of parts) {
      data.set(p.data, off);
      off += p.data.length;
    }
    layers.set(k, { data, n, d: parts[0].d });
  }
  const first = shards[0].plan;
  const meta: StoreMeta = {
    model: first.frontEnd,
    model_fingerprint: first.fingerprint ?? null,
    layers: first.layers,
    pooling: first.pooling,
    extraction: { ...first, shard: null, items: shards.reduce((a, s) => a + s.plan.items, 0), digest: 'merged' },
  };
  const errors = shards.flatMap((s) => (fs.existsSync(path.join(s.dir, ERRORS_FILE)) ? readCsv(path.join(s.dir, ERRORS_FILE)).rows : []));
  writeStoreAtomic(out, { index: stores.flatMap((s) => s.index), layers, meta }, errors, lock);
  return { rows: layers.values().next().value!.n, shards: count };
}
