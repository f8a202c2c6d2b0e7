/** A HuggingFace checkpoint directory: config files plus one of the weight-file layouts HF writes. */
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError } from '../errors';
import { ModelConfig, PreprocessorConfig, readModelConfig, readPreprocessorConfig } from './config';
import { mapCheckpoint } from './keymap';
import { readSafetensors } from './safetensors';
import { readSharded } from './shards';
import { HostTensor, WeightSet } from './tensor';
import { readTorchZip } from './torch';

/** Weight files in the order HF prefers them. */
export const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;

/** The weight file a checkpoint directory would be loaded from (or `prefer`, when given and present). */
export function findWeightFile(dir: string, prefer?: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CheckpointError('not a checkpoint directory', dir);
  const names = prefer ? [prefer] : WEIGHT_FILES;
  for (const n of names) if (fs.existsSync(path.join(dir, n))) return path.join(dir, n);
  throw new CheckpointError(`no weight file (looked for ${names.join(', ')})`, dir);
}

/**
 * Reads a raw state dict (float32, HF layout and names) from one weight file or shard index: `*.safetensors`,
 * `*.bin` (torch zip), or `*.safetensors.index.json` / `*.bin.index.json`. `keep` selects names to read.
 */
export function readStateDict(file: string, keep: (name: string) => boolean = () => true): Map<string, HostTensor> {
  const base = path.basename(file);
  if (base.endsWith('.safetensors')) return readSafetensors(file, keep);
  if (base.endsWith('.safetensors.index.json')) return readSharded(file, readSafetensors, keep);
  if (base.endsWith('.bin')) return readTorchZip(file, keep);
  if (base.endsWith('.bin.index.json')) return readSharded(file, readTorchZip, keep);
  throw new CheckpointError('unsupported weight file (expected .safetensors, .bin or a shard index of either)', file);
}

export interface Checkpoint {
  dir: string;
  weightFile: string;
  config: ModelConfig;
  preprocessor: PreprocessorConfig;
  weights: WeightSet;
}

/** Loads and maps a HF checkpoint directory into the forward pass's weight set. */
export function readCheckpoint(dir: string, opts: { weightFile?: string } = {}): Checkpoint {
  const config = readModelConfig(dir);
  const preprocessor = readPreprocessorConfig(dir);
  const weightFile = findWeightFile(dir, opts.weightFile);
  const weights = mapCheckpoint(readStateDict(weightFile), config, weightFile);
  return { dir, weightFile, config, preprocessor, weights };
}
