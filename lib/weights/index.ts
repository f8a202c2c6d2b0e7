/** The weights API: HF checkpoints and converted wavprobe weight stores → config + weight set. */
export * from './checkpoint';
export * from './config';
export * from './convert';
export * from './fingerprint';
export * from './hub';
export * from './keymap';
export * from './safetensors';
export * from './shards';
export * from './store';
export * from './tensor';
export { readTorchZip, TORCH_ALLOWED_GLOBALS } from './torch';
export { cacheDir } from './cache';

import { Checkpoint, checkpointFingerprint, readCheckpoint } from './checkpoint';
import { isStore, readStore, readStoreInfo } from './store';
import { HostWeightSet } from './tensor';

/**
 * Loads a model directory for the forward pass: a converted store (has wavprobe.json), else a HF checkpoint
 * directory. With `keepHalf` (what loadModel asks), a float16 store's weights stay halves until a model uploads them.
 */
export function loadModelDir(dir: string, opts?: { keepHalf?: false }): Checkpoint;
export function loadModelDir(dir: string, opts: { keepHalf?: boolean }): Checkpoint<HostWeightSet>;
export function loadModelDir(dir: string, opts: { keepHalf?: boolean } = {}): Checkpoint<HostWeightSet> {
  return isStore(dir) ? readStore(dir, opts) : readCheckpoint(dir);
}

/**
 * A model directory's fingerprint (weightsFingerprint): recorded in a store's wavprobe.json (null for a store
 * converted before it was), computed from a HF checkpoint directory's mapped weights once per process.
 */
export function modelFingerprint(dir: string): string | null {
  return isStore(dir) ? readStoreInfo(dir).fingerprint : checkpointFingerprint(dir);
}
