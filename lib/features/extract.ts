/**
 * Extraction: dataset items → pooled features (mean, and with `mean,std` the std) of every requested layer → a feature store.
 *
 * Resumable and atomic: work goes into a journal, `<out>.partial/` (journal.ts), that a rerun of the same plan
 * (plan.ts) resumes; the finished store is written to a temporary directory, renamed to `<out>`, and is
 * byte-identical to an uninterrupted run, whatever the number of workers (workers.ts).
 * One writer per output: `<out>.lock` (lib/lock.ts) is held from the first check to the final rename.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BackendName } from '../backend';
import { readCsv } from '../data/csv';
import type { DatasetItem } from '../data';
import { DataError } from '../errors';
import { Lock, withLock } from '../lock';
import type { FrontEndInfo, FrontEndSpec, PooledFrontEnd } from './frontend';
import { describeFrontEnd } from './frontends';
import { Journal, journalDir } from './journal';
import { ExtractionPlan, Shard, makePlan, shardItems } from './plan';
import { ERRORS_FILE, LayerArray, StoreMeta, readMeta, writeStoreAtomic } from './store';
import { PoolFileResult, openRunner } from './workers';

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
  return withLock(out, (lock) => {
    const done = finishedStore(out, plan);
    if (done) return { ...done, total: mine.length, ok: mine.length - done.failed };
    return extractInto(mine, frontEnd, info, plan, out, lock, opts);
  });
}

/** A store already finished by the same plan (a rerun after completion), or null when `out` does not exist yet. */
function finishedStore(out: string, plan: ExtractionPlan): { out: string; failed: number; complete: true } | null {
  if (!fs.existsSync(out)) return null;
  let meta: StoreMeta | null;
  try {
    meta = readMeta(out);
  } catch (e) {
    throw new DataError(
      `output folder holds a corrupt feature store (${(e as DataError).reason}); delete it and rerun, or choose another --out`,
      out,
    );
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
  plan: ExtractionPlan,
  out: string,
  lock: Lock,
  opts: ExtractOptions,
): Promise<ExtractSummary> {
  const record = new Float32Array(recordFloats(info));
  const journal = new Journal(journalDir(out), plan, record.byteLength);
  const runner = openRunner(frontEnd, opts.workers ?? 1, opts.backend ?? 'wasm');
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
        for (const v of [...r.vectors, ...(r.std ?? [])]) {
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

/**
 * Builds the store from a complete journal and writes it atomically, then drops the journal (which stays for a
 * rerun when the write fails).
 */
function finishStore(items: DatasetItem[], fe: FrontEndInfo, plan: ExtractionPlan, journal: Journal, out: string, lock: Lock): void {
  const stride = recordFloats(fe);
  const raw = fs.readFileSync(journal.featuresFile); // may be a view into Node's shared pool: copy exactly its bytes
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)); // [items, stride]
  const okRows = journal.infos.filter((x) => x.error === undefined).map((x) => x.i);
  let off = 0;
  // The record's columns in order: every layer's mean, then (mean,std) every layer's std.
  const columns = () => {
    const arrays = new Map<number, LayerArray>();
    fe.layers.forEach((layer, li) => {
      const d = fe.dims[li];
      const data = new Float32Array(okRows.length * d); // [N_ok, d]
      okRows.forEach((i, r) => data.set(all.subarray(i * stride + off, i * stride + off + d), r * d));
      arrays.set(layer, { data, n: okRows.length, d });
      off += d;
    });
    return arrays;
  };
  const layers = columns();
  const std = fe.pooling === 'mean,std' ? columns() : undefined;
  const index = okRows.map((i) => indexRow(items[i], journal.infos[i].duration_s!));
  const meta: StoreMeta = { model: fe.id, model_fingerprint: fe.fingerprint, layers: fe.layers, pooling: fe.pooling, extraction: plan };
  if (okRows.length === 0) throw new DataError(`no file could be read (${items.length} failed; see ${journal.infoFile})`, out);
  const errors = journal.infos.filter((x) => x.error !== undefined).map((x) => ({ id: items[x.i].id, path: items[x.i].path, error: x.error! }));
  writeStoreAtomic(out, { index, layers, std, meta }, errors, lock);
  fs.rmSync(journal.dir, { recursive: true, force: true });
}

/** Floats per journal record: every layer's mean, and its std with pooling `mean,std`. */
const recordFloats = (fe: FrontEndInfo): number => fe.dims.reduce((a, b) => a + b, 0) * (fe.pooling === 'mean,std' ? 2 : 1);

function indexRow(item: DatasetItem, durationS: number): Record<string, string | number> {
  const row: Record<string, string | number> = { id: item.id, label: item.label, path: item.path, duration_s: durationS };
  if (item.speaker !== undefined) row.speaker = item.speaker;
  if (item.attack !== undefined) row.attack = item.attack;
  for (const [k, v] of Object.entries(item.extra ?? {})) if (!(k in row)) row[k] = v;
  return row;
}
