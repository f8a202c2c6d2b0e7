import * as crypto from 'crypto';
import { HostTensor, WeightLookup } from './tensor';

/**
 * A model's identity, `sha256:` + the hex sha256 of: the config.json bytes, a 0 byte, then for each weight in name
 * order its name, a 0 byte, its shape as comma-separated decimals, a 0 byte and its float32 little-endian values in
 * the stored layout. A store's float16 rounding comes after, so a float16 store, a float32 store and the checkpoint
 * directory they were converted from all agree. (Valid JSON and weight names hold no 0 byte: fields cannot blur.)
 * Each weight is got once, in name order, so weights read on demand (OpenCheckpoint) are hashed one at a time.
 */
export function weightsFingerprint(configJson: Uint8Array, weights: WeightLookup): string {
  const hash = crypto.createHash('sha256').update(configJson).update(new Uint8Array(1));
  for (const name of [...weights.keys()].sort()) {
    const t = weights.get(name) as HostTensor;
    hash.update(`${name}\0${t.shape.join(',')}\0`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return `sha256:${hash.digest('hex')}`;
}
