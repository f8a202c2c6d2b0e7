/**
 * Extraction throughput with 1…N worker threads on the same files: files per second from the first committed file
 * to the last (start-up and model loading excluded), and each count's speed-up over one worker.
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
  files_per_s: number;
  audio_s_per_s: number;
  /** files_per_s relative to one worker. */
  speedup: number;
}

export interface ExtractBenchResult {
  machine: MachineInfo;
  backend: BackendName;
  model: string;
  rows: ExtractBenchRow[];
}

export async function benchExtract(items: DatasetItem[], spec: FrontEndSpec, workerCounts: number[], backend: BackendName): Promise<ExtractBenchResult> {
  const rows: ExtractBenchRow[] = [];
  for (const workers of workerCounts) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-bench-extract-'));
    let first: { t: number; audio: number } | null = null;
    let last = { t: 0, done: 0, audio: 0 };
    try {
      await extractFeatures(items, spec, path.join(out, 'store'), {
        workers,
        backend,
        onProgress: (p) => {
          const t = performance.now();
          first ??= { t, audio: p.audioSeconds };
          last = { t, done: p.done, audio: p.audioSeconds };
        },
      });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
    const seconds = (last.t - first!.t) / 1000; // after the first file: steady state
    const filesPerS = (last.done - 1) / seconds;
    rows.push({
      workers,
      files: items.length,
      files_per_s: Number(filesPerS.toFixed(2)),
      audio_s_per_s: Number(((last.audio - first!.audio) / seconds).toFixed(2)),
      speedup: Number((filesPerS / (rows[0]?.files_per_s ?? filesPerS)).toFixed(2)),
    });
  }
  return { machine: machineInfo(), backend, model: spec.model, rows };
}
