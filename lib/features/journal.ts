/**
 * The journal of a partial extraction, `<out>.partial/`, written in plan order:
 *   plan.json      what is being extracted (plan.ts): a rerun must match it
 *   features.f32   one fixed-size record per processed item (all layers, float32; zeros for a failed item)
 *   info.jsonl     one line per processed item: {"i", "duration_s"} or {"i", "error"}
 *   status.bin     one byte per processed item, written last: the commit point of that item
 * Killed at any moment, a rerun truncates the journal to the committed items and goes on.
 */
import * as fs from 'fs';
import * as path from 'path';
import { onFile, writeFileAtomic } from '../atomic';
import { DataError } from '../errors';
import type { ExtractionPlan } from './plan';

/** The journal of an extraction into `out`. */
export const journalDir = (out: string): string => `${out}.partial`;

/** How many items the journal at `dir` has committed (0 when there is none); safe to read while a writer appends. */
export function committedItems(dir: string): number {
  const file = path.join(dir, 'status.bin');
  return fs.existsSync(file) ? fs.statSync(file).size : 0;
}

export interface ItemInfo {
  i: number;
  duration_s?: number;
  error?: string;
}

/** Opened for appending after dropping anything not committed. */
export class Journal {
  readonly featuresFile: string;
  readonly infoFile: string;
  readonly statusFile: string;
  readonly committed: number;
  readonly infos: ItemInfo[];
  /** features, info and status, kept open: one write per file per item, not an open/write/close each (the main thread's share of a fast run). */
  private fds: number[];

  constructor(
    readonly dir: string,
    plan: ExtractionPlan,
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
    this.committed = committedItems(dir);
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
    if (this.infos.length !== this.committed)
      throw new DataError('journal info.jsonl misses committed items; delete this folder and start again', dir);
    writeFileAtomic(this.infoFile, this.infos.map((x) => JSON.stringify(x) + '\n').join(''));
    this.fds = [this.featuresFile, this.infoFile, this.statusFile].map((f) => fs.openSync(f, 'a'));
  }

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
