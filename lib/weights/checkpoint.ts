/** A HuggingFace checkpoint directory: config files plus one of the weight-file layouts HF writes. */
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError } from '../errors';
import { ModelConfig, PreprocessorConfig, readModelConfig, readPreprocessorConfig } from './config';
import { weightsFingerprint } from './fingerprint';
import { mapWeight, planCheckpoint } from './keymap';
import { openSafetensors, readSafetensorsHeader } from './safetensors';
import { TensorOpener, TensorReader, openSharded, readAll, readSharded } from './shards';
import { HostTensor, WeightLookup, WeightSet } from './tensor';
import { listTorchZip, openTorchReader } from './torch';

/** Weight files in the order HF prefers them. */
export const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;

/** The weight file a checkpoint directory would be loaded from (or `prefer`, when given and present). */
export function findWeightFile(dir: string, prefer?: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CheckpointError('not a checkpoint directory', dir);
  const names = prefer ? [prefer] : WEIGHT_FILES;
  for (const n of names) if (fs.existsSync(path.join(dir, n))) return path.join(dir, n);
  throw new CheckpointError(`no weight file (looked for ${names.join(', ')})`, dir);
}

/** A weight format: its tensors' names and shapes from headers or pickles alone, and a reader of the tensors themselves. */
interface Format {
  list: (file: string) => Map<string, number[]>;
  open: TensorOpener;
}
const FORMATS: [suffix: string, format: Format][] = [
  ['.safetensors', { list: (file) => new Map([...readSafetensorsHeader(file).entries].map(([n, e]) => [n, e.shape])), open: openSafetensors }],
  ['.bin', { list: listTorchZip, open: openTorchReader }],
];

/** `*.safetensors`, `*.bin` (torch zip), or a shard index of either (`*.safetensors.index.json`, `*.bin.index.json`). */
function formatOf(file: string): { format: Format; sharded: boolean } {
  const base = path.basename(file);
  for (const [suffix, format] of FORMATS) {
    if (base.endsWith(suffix)) return { format, sharded: false };
    if (base.endsWith(`${suffix}.index.json`)) return { format, sharded: true };
  }
  throw new CheckpointError('unsupported weight file (expected .safetensors, .bin or a shard index of either)', file);
}

/** Every tensor's name and shape in a weight file or shard index, read without any tensor data. */
export function listStateDict(file: string): Map<string, number[]> {
  const { format, sharded } = formatOf(file);
  if (!sharded) return format.list(file);
  return readSharded(file, (shard, keep) => new Map([...format.list(shard)].filter(([n]) => keep(n))));
}

/** Opens a weight file or shard index for the names `keep` selects, to read its tensors (float32, HF layout and names) one at a time. */
export function openStateDict(file: string, keep: (name: string) => boolean = () => true): TensorReader {
  const { format, sharded } = formatOf(file);
  return sharded ? openSharded(file, format.open, keep) : format.open(file, keep);
}

/** Reads a raw state dict (float32, HF layout and names) from a weight file or shard index. `keep` selects names to read. */
export function readStateDict(file: string, keep: (name: string) => boolean = () => true): Map<string, HostTensor> {
  return readAll(openStateDict(file, keep));
}

export interface Checkpoint<W = WeightSet> {
  dir: string;
  weightFile: string;
  config: ModelConfig;
  preprocessor: PreprocessorConfig;
  weights: W;
  /** See weightsFingerprint; null for a store converted before fingerprints were recorded. */
  fingerprint: string | null;
}

/**
 * A checkpoint directory opened, its weights planned from names and shapes (planCheckpoint) but not read: each
 * `weights.get(key)` reads and maps that weight (mapWeight) anew, so at most one weight is in memory at a time
 * (what convert streams). Close it.
 */
export interface OpenCheckpoint extends Omit<Checkpoint<WeightLookup>, 'fingerprint'> {
  close(): void;
}

/** Opens a HF checkpoint directory for reading one weight at a time (see OpenCheckpoint). */
export function openCheckpoint(dir: string, opts: { weightFile?: string } = {}): OpenCheckpoint {
  const config = readModelConfig(dir);
  const preprocessor = readPreprocessorConfig(dir);
  const weightFile = findWeightFile(dir, opts.weightFile);
  // Names and shapes are checked against config.json before any data is read, and only what the model needs is read.
  const plan = planCheckpoint(listStateDict(weightFile), config, weightFile);
  const wanted = new Set([...plan.values()].flatMap((w) => w.from));
  const reader = openStateDict(weightFile, (n) => wanted.has(n));
  const weights: WeightLookup = {
    keys: () => plan.keys(),
    get: (key) => {
      const source = plan.get(key);
      return source && mapWeight(key, source, (name) => reader.read(name), weightFile);
    },
  };
  return { dir, weightFile, config, preprocessor, weights, close: () => reader.close() };
}

/** Fingerprints of the checkpoints read in this process, by weight file. */
const fingerprints = new Map<string, string>();

/** Loads and maps a HF checkpoint directory into the forward pass's weight set. */
export function readCheckpoint(dir: string, opts: { weightFile?: string } = {}): Checkpoint & { fingerprint: string } {
  const { weights: lazy, close, ...ckpt } = openCheckpoint(dir, opts);
  let weights: WeightSet;
  try {
    weights = new Map([...lazy.keys()].map((key) => [key, lazy.get(key) as HostTensor]));
  } finally {
    close();
  }
  const key = path.resolve(ckpt.weightFile);
  const fingerprint = fingerprints.get(key) ?? weightsFingerprint(fs.readFileSync(path.join(dir, 'config.json')), weights);
  fingerprints.set(key, fingerprint);
  return { ...ckpt, weights, fingerprint };
}

/** A checkpoint directory's fingerprint: computed once per process (it reads every weight). */
export function checkpointFingerprint(dir: string): string {
  return fingerprints.get(path.resolve(findWeightFile(dir))) ?? readCheckpoint(dir).fingerprint;
}
