/**
 * Extraction throughput with 1…N worker threads on the same files, and each count's speed-up over one worker.
 * Steady state: files per second over the last three quarters of the files. The first quarter is warm-up (model
 * loading, and each worker's JIT: on the 400 short files of digits-spoof, 2 workers run their first 100 files at
 * ~75 % of their later rate), reported apart as files_per_s_all (from the first committed file to the last).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BackendName } from '../backend';
import type { DatasetItem } from '../data';
import { extractFeatures } from '../features/extract';
import type { FrontEndSpec } from '../features/frontend';
import { MachineInfo, machineInfo } from './machine';

export interface ExtractBenchRow {
  workers: number;
  files: number;
  /** Steady state (the last three quarters of the files). */
  files_per_s: number;
  audio_s_per_s: number;
  /** From the first committed file to the last. */
  files_per_s_all: number;
  /** files_per_s relative to one worker. */
  speedup: number;
}

export interface ExtractBenchResult {
  machine: MachineInfo;
  backend: BackendName;
  model: string;
  rows: ExtractBenchRow[];
}

export async function benchExtract(
  items: DatasetItem[],
  spec: FrontEndSpec,
  workerCounts: number[],
  backend: BackendName,
): Promise<ExtractBenchResult> {
  const rows: ExtractBenchRow[] = [];
  for (const workers of workerCounts) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-bench-extract-'));
    const warmup = Math.max(1, Math.floor(items.length / 4)); // files committed before the steady-state clock starts
    const marks: { t: number; done: number; audio: number }[] = []; // at file 1, at `warmup`, and at the last file
    try {
      await extractFeatures(items, spec, path.join(out, 'store'), {
        workers,
        backend,
        onProgress: (p) => {
          const mark = { t: performance.now(), done: p.done, audio: p.audioSeconds };
          if (p.done === 1 || p.done === warmup) marks.push(mark);
          if (p.done === items.length) marks.push(mark);
        },
      });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
    const [first, steady, last] = [marks[0], marks[marks.length - 2], marks[marks.length - 1]];
    const seconds = (last.t - steady.t) / 1000;
    const filesPerS = (last.done - steady.done) / seconds;
    rows.push({
      workers,
      files: items.length,
      files_per_s: Number(filesPerS.toFixed(2)),
      audio_s_per_s: Number(((last.audio - steady.audio) / seconds).toFixed(2)),
      files_per_s_all: Number(((last.done - first.done) / ((last.t - first.t) / 1000)).toFixed(2)),
      speedup: Number((filesPerS / (rows[0]?.files_per_s ?? filesPerS)).toFixed(2)),
    });
  }
  return { machine: machineInfo(), backend, model: spec.model, rows };
}
