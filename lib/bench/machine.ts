/** What a benchmark ran on, printed beside every result. */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs-core';
import { kernelsInUse } from '../kernels';

export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  tfjs: string;
  /** What the dense layers, convolutions, attention, norms and GELU ran on: wavprobe-relaxed|wavprobe-plain|tfjs. */
  kernels: string;
}

/** Call once the backend is selected. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, node: process.version, tfjs: tf.version_core, kernels: kernelsInUse() };
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Waits until the work behind `out` is done. wasm and cpu run every op to completion inside the call; elsewhere
 * (tfjs-node's GPU build) the outputs are read back. Reading them on wasm would copy ~20 MB per forward at 10 s
 * (~15 ms that no peer pays); even a one-value slice of an output reads its whole buffer there.
 */
function waitFor(out: tf.TensorContainer): void {
  if (tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu') return;
  for (const t of tf.tensor_util.getTensorsInContainer(out)) t.dataSync();
}

/** Seconds per call of f (each call's result disposed), after one warm-up call. */
export function timeRuns(runs: number, f: () => tf.TensorContainer): number[] {
  tf.dispose(f());
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = f();
    waitFor(out);
    seconds.push((performance.now() - t0) / 1000);
    tf.dispose(out);
  }
  return seconds;
}
