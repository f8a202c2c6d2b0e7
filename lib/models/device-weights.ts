/**
 * A model's weights on the tfjs backend, looked up by HF key, freed by dispose(). Resident weights are uploaded
 * once at load. Streamed weights (a model too large for the backend's heap, e.g. XLS-R 1B on wasm's 4 GB) stay
 * in the JS heap and are uploaded per transformer layer, just before it runs, and freed right after.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors';
import { HostTensor, WeightSet } from '../weights/tensor';

export interface DeviceWeightsOptions {
  /** Drop each host copy from `host` once it is uploaded (or kept here), so both never coexist whole. */
  releaseHost?: boolean;
  /** Keys kept in the JS heap and uploaded on demand by load(). */
  streamed?: (key: string) => boolean;
  /** Re-lays out a resident weight once after upload (it owns and may dispose its input), e.g. packWeight. */
  prepare?: (key: string, t: tf.Tensor) => tf.Tensor;
}

export class DeviceWeights {
  private readonly tensors = new Map<string, tf.Tensor>();
  private readonly host = new Map<string, HostTensor>();

  constructor(source: WeightSet, opts: DeviceWeightsOptions = {}) {
    for (const [key, t] of source) {
      if (opts.streamed?.(key)) this.host.set(key, t);
      else {
        const uploaded = tf.tensor(t.data, t.shape, 'float32');
        this.tensors.set(key, opts.prepare ? opts.prepare(key, uploaded) : uploaded);
      }
      if (opts.releaseHost) source.delete(key);
    }
  }

  has(key: string): boolean {
    return this.tensors.has(key) || this.host.has(key);
  }

  /** Whether any weight under `prefix` is streamed (its owner must load() it before use). */
  streams(prefix: string): boolean {
    for (const key of this.host.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** Uploads the streamed weights under `prefix`; the tensors are the caller's to free with unload(). */
  load(prefix: string): void {
    for (const [key, t] of this.host) if (key.startsWith(prefix) && !this.tensors.has(key)) this.tensors.set(key, tf.keep(tf.tensor(t.data, t.shape, 'float32')));
  }

  /** Frees the uploaded copies of the streamed weights under `prefix` (their host copies stay). */
  unload(prefix: string): void {
    for (const key of this.host.keys()) {
      if (!key.startsWith(prefix)) continue;
      this.tensors.get(key)?.dispose();
      this.tensors.delete(key);
    }
  }

  get(key: string): tf.Tensor {
    const t = this.tensors.get(key);
    if (t) return t;
    if (this.host.has(key)) throw new CheckpointError(`weight "${key}" is streamed and not loaded`);
    throw new CheckpointError(`missing weight "${key}"`);
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
    this.host.clear();
  }
}
