/** A HuggingFace checkpoint directory: config files plus one of the weight-file layouts HF writes. */
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError } from '../errors';
import { ModelConfig, PreprocessorConfig, readModelConfig, readPreprocessorConfig } from './config';
import { weightsFingerprint } from './fingerprint';
import { mapCheckpoint, planCheckpoint } from './keymap';
import { readSafetensors, readSafetensorsHeader } from './safetensors';
import { StateDictReader, readSharded } from './shards';
import { HostTensor, WeightSet } from './tensor';
import { listTorchZip, readTorchZip } from './torch';

/** Weight files in the order HF prefers them. */
export const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;

/** The weight file a checkpoint directory would be loaded from (or `prefer`, when given and present). */
export function findWeightFile(dir: string, prefer?: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CheckpointError('not a checkpoint directory', dir);
  const names = prefer ? [prefer] : WEIGHT_FILES;
  for (const n of names) if (fs.existsSync(path.join(dir, n))) return path.join(dir, n);
  throw new CheckpointError(`no weight file (looked for ${names.join(', ')})`, dir);
}

/** A weight format: its tensors' names and shapes from headers or pickles alone, and the tensors themselves. */
interface Format {
  list: (file: string) => Map<string, number[]>;
  read: StateDictReader;
}
const FORMATS: [suffix: string, format: Format][] = [
  ['.safetensors', { list: (file) => new Map([...readSafetensorsHeader(file).entries].map(([n, e]) => [n, e.shape])), read: readSafetensors }],
  ['.bin', { list: listTorchZip, read: readTorchZip }],
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

/** Reads a raw state dict (float32, HF layout and names) from a weight file or shard index. `keep` selects names to read. */
export function readStateDict(file: string, keep: (name: string) => boolean = () => true): Map<string, HostTensor> {
  const { format, sharded } = formatOf(file);
  return sharded ? readSharded(file, format.read, keep) : format.read(file, keep);
}

export interface Checkpoint {
  dir: string;
  weightFile: string;
  config: ModelConfig;
  preprocessor: PreprocessorConfig;
  weights: WeightSet;
  /** See weightsFingerprint; null for a store converted before fingerprints were recorded. */
  fingerprint: string | null;
}

/** Fingerprints of the checkpoints read in this process, by weight file. */
const fingerprints = new Map<string, string>();

/** Loads and maps a HF checkpoint directory into the forward pass's weight set. */
export function readCheckpoint(dir: string, opts: { weightFile?: string } = {}): Checkpoint & { fingerprint: string } {
  const config = readModelConfig(dir);
  const preprocessor = readPreprocessorConfig(dir);
  const weightFile = findWeightFile(dir, opts.weightFile);
  // Names and shapes are checked against config.json before any data is read, and only what the model needs is read.
  const wanted = new Set([...planCheckpoint(listStateDict(weightFile), config, weightFile).values()].flatMap((w) => w.from));
  const weights = mapCheckpoint(
    readStateDict(weightFile, (n) => wanted.has(n)),
    config,
    weightFile,
  );
  const key = path.resolve(weightFile);
  const fingerprint = fingerprints.get(key) ?? weightsFingerprint(fs.readFileSync(path.join(dir, 'config.json')), weights);
  fingerprints.set(key, fingerprint);
  return { dir, weightFile, config, preprocessor, weights, fingerprint };
}

/** A checkpoint directory's fingerprint: computed once per process (it reads every weight). */
export function checkpointFingerprint(dir: string): string {
  return fingerprints.get(path.resolve(findWeightFile(dir))) ?? readCheckpoint(dir).fingerprint;
}
