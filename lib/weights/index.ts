/** The weights API: HF checkpoints and converted wavprobe weight stores → config + weight set. */
export * from './checkpoint';
export * from './config';
export * from './convert';
export * from './hub';
export * from './keymap';
export * from './safetensors';
export * from './shards';
export * from './store';
export * from './tensor';
export { readTorchZip, TORCH_ALLOWED_GLOBALS } from './torch';
export { cacheDir } from './cache';

import { Checkpoint, readCheckpoint } from './checkpoint';
import { isStore, readStore } from './store';

/** Loads a model directory for the forward pass: a converted store (has wavprobe.json), else a HF checkpoint directory. */
export function loadModelDir(dir: string): Checkpoint {
  return isStore(dir) ? readStore(dir) : readCheckpoint(dir);
}
