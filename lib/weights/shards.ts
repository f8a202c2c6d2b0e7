/** Sharded checkpoints: `<weights>.index.json` = `{weight_map: {name: shard file}}`, shards beside the index. */
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError } from '../errors';
import { HostTensor } from './tensor';

/** The index's `{name: shard}` map, validated (shard files are plain names in the index's folder). */
export function readShardIndex(indexFile: string): Map<string, string> {
  let j: { weight_map?: Record<string, unknown> };
  try {
    j = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`cannot read shard index: ${(e as Error).message}`, indexFile);
  }
  if (!j || typeof j.weight_map !== 'object' || j.weight_map === null) throw new CheckpointError('shard index has no "weight_map" object', indexFile);
  const map = new Map<string, string>();
  for (const [n, s] of Object.entries(j.weight_map)) {
    if (typeof s !== 'string' || s.includes('/') || s.includes('\\') || s.startsWith('.')) {
      throw new CheckpointError(`shard index names a bad shard file for "${n}": ${JSON.stringify(s)}`, indexFile);
    }
    map.set(n, s);
  }
  return map;
}

/** The distinct shard files an index names, in first-use order. */
export function shardFiles(indexFile: string): string[] {
  return [...new Set(readShardIndex(indexFile).values())];
}

export type StateDictReader = (file: string, keep: (name: string) => boolean) => Map<string, HostTensor>;

/** Reads every shard with `readShard`, taking from each only the names the index puts there. */
export function readSharded(indexFile: string, readShard: StateDictReader, keep: (name: string) => boolean = () => true): Map<string, HostTensor> {
  const map = readShardIndex(indexFile);
  const out = new Map<string, HostTensor>();
  for (const shard of new Set(map.values())) {
    const names = new Set([...map].filter(([, s]) => s === shard).map(([n]) => n));
    const file = path.join(path.dirname(indexFile), shard);
    if (!fs.existsSync(file)) throw new CheckpointError(`shard ${shard} named by the index is missing`, indexFile);
    for (const [n, t] of readShard(file, (n) => names.has(n) && keep(n))) out.set(n, t);
    for (const n of names) if (keep(n) && !out.has(n)) throw new CheckpointError(`index says "${n}" is in ${shard}, but it is not there`, indexFile);
  }
  return out;
}
