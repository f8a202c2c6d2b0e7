/** A model's weights on the tfjs backend: each uploaded once at load, looked up by HF key, freed by dispose(). */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors';
import { WeightSet } from '../weights/tensor';

export class DeviceWeights {
  private readonly tensors = new Map<string, tf.Tensor>();

  /** `releaseHost` drops each host copy from `host` once it is on the backend, so both never coexist whole. */
  constructor(host: WeightSet, opts: { releaseHost?: boolean } = {}) {
    for (const [key, t] of host) {
      this.tensors.set(key, tf.tensor(t.data, t.shape, 'float32'));
      if (opts.releaseHost) host.delete(key);
    }
  }

  has(key: string): boolean {
    return this.tensors.has(key);
  }

  get(key: string): tf.Tensor {
    const t = this.tensors.get(key);
    if (!t) throw new CheckpointError(`missing weight "${key}"`);
    return t;
  }

  /** Removes a weight (the caller now owns it), e.g. to re-lay it out once at load. */
  take(key: string): tf.Tensor {
    const t = this.get(key);
    this.tensors.delete(key);
    return t;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}
