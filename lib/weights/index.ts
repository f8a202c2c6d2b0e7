/** The weights API: HF checkpoints (and, once converted, wavprobe weight stores) → config + weight set. */
export * from './checkpoint';
export * from './config';
export * from './keymap';
export * from './safetensors';
export * from './tensor';
export { cacheDir } from './cache';

import { Checkpoint, readCheckpoint } from './checkpoint';

/** Loads a model directory for the forward pass: a HF checkpoint directory (or, later, a converted store). */
export function loadModelDir(dir: string): Checkpoint {
  return readCheckpoint(dir);
}
