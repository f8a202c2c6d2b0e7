/** Sharded checkpoints: `<weights>.index.json` = `{weight_map: {name: shard file}}`, shards beside the index. */
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError } from '../errors';
import { readJsonFile } from './config';
import { showJson } from './json';
import { HostTensor } from './tensor';

/** The index's `{name: shard}` map, validated (shard files are plain names in the index's folder). */
export function readShardIndex(indexFile: string): Map<string, string> {
  const j = readJsonFile(indexFile, (r, f) => new CheckpointError(`cannot read shard index: ${r}`, f)) as { weight_map?: Record<string, unknown> };
  if (typeof j.weight_map !== 'object' || j.weight_map === null) throw new CheckpointError('shard index has no "weight_map" object', indexFile);
  const map = new Map<string, string>();
  for (const [n, s] of Object.entries(j.weight_map)) {
    if (typeof s !== 'string' || s.includes('/') || s.includes('\\') || s.startsWith('.')) {
      throw new CheckpointError(`shard index names a bad shard file for "${n}": ${showJson(s)}`, indexFile);
    }
    map.set(n, s);
  }
  return map;
}

/** The distinct shard files an index names, in first-use order. */
export function shardFiles(indexFile: string): string[] {
  return [...new Set(readShardIndex(indexFile).values())];
}

export type StateDictReader<T = HostTensor> = (file: string, keep: (name: string) => boolean) => Map<string, T>;

/**
 * An open weight file: the kept tensors' names and shapes (from headers or pickles), each tensor read only when
 * asked for, so a reader holds one tensor at a time (convert streams a model through it). Close it.
 */
export interface TensorReader {
  shapes: Map<string, number[]>;
  read(name: string): HostTensor;
  close(): void;
}

/** Opens a weight file for the names `keep` selects. */
export type TensorOpener = (file: string, keep: (name: string) => boolean) => TensorReader;

/** Every tensor a reader holds, read in its order; closes the reader. */
export function readAll(reader: TensorReader): Map<string, HostTensor> {
  try {
    return new Map([...reader.shapes.keys()].map((n) => [n, reader.read(n)]));
  } finally {
    reader.close();
  }
}

/** Opens every shard of an index with `open`, each for the names the index puts there; a read goes to its shard. */
export function openSharded(indexFile: string, open: TensorOpener, keep: (name: string) => boolean = () => true): TensorReader {
  const readers: TensorReader[] = [];
  const shapes = new Map<string, number[]>();
  const where = new Map<string, TensorReader>();
  try {
    for (const [shard, names] of namesByShard(indexFile)) {
      const file = path.join(path.dirname(indexFile), shard);
      if (!fs.existsSync(file)) throw new CheckpointError(`shard ${shard} named by the index is missing`, indexFile);
      const reader = open(file, (n) => names.has(n) && keep(n));
      readers.push(reader);
      for (const n of names) {
        if (!keep(n)) continue;
        const shape = reader.shapes.get(n);
        if (!shape) throw new CheckpointError(`index says "${n}" is in ${shard}, but it is not there`, indexFile);
        shapes.set(n, shape);
        where.set(n, reader);
      }
    }
  } catch (e) {
    for (const r of readers) r.close();
    throw e;
  }
  return {
    shapes,
    read(name) {
      const reader = where.get(name);
      if (!reader) throw new CheckpointError(`no tensor "${name}" in the shards`, indexFile);
      return reader.read(name);
    },
    close: () => readers.forEach((r) => r.close()),
  };
}

/** The index's names grouped by shard file, in first-use order. */
function namesByShard(indexFile: string): Map<string, Set<string>> {
  const byShard = new Map<string, Set<string>>();
  for (const [n, s] of readShardIndex(indexFile)) {
    const names = byShard.get(s);
    if (names) names.add(n);
    else byShard.set(s, new Set([n]));
  }
  return byShard;
}

/** Reads every shard with `readShard` (here: only their shapes), taking from each the names the index puts there. */
export function readSharded<T>(indexFile: string, readShard: StateDictReader<T>, keep: (name: string) => boolean = () => true): Map<string, T> {
  const out = new Map<string, T>();
  for (const [shard, names] of namesByShard(indexFile)) {
    const file = path.join(path.dirname(indexFile), shard);
    if (!fs.existsSync(file)) throw new CheckpointError(`shard ${shard} named by the index is missing`, indexFile);
    for (const [n, t] of readShard(file, (n) => names.has(n) && keep(n))) out.set(n, t);
    for (const n of names) if (keep(n) && !out.has(n)) throw new CheckpointError(`index says "${n}" is in ${shard}, but it is not there`, indexFile);
  }
  return out;
}
