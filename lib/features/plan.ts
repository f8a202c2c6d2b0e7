/**
 * What an extraction is: the front-end, its layers, the items (by digest) and the options. A rerun must match the
 * plan of the journal it resumes or of the store it finds finished; merging checks the shards' plans against
 * each other. `--shard i/n` takes a contiguous block of the items, so merging shards in shard order restores the
 * original order.
 */
import * as crypto from 'crypto';
import type { DatasetItem } from '../data';
import { DataError } from '../errors';
import type { FrontEndInfo } from './frontend';

export interface Shard {
  index: number; // 0-based
  count: number;
}

/** Recorded as plan.json in the journal and as `extraction` in the finished store's meta.json. */
export interface ExtractionPlan {
  frontEnd: string;
  fingerprint: string | null;
  layers: number[];
  dims: number[];
  pooling: string;
  maxSeconds: number | null;
  shard: Shard | null;
  items: number;
  digest: string;
}

/** Parses `i/n` (0-based i) as used by `--shard`. */
export function parseShard(spec: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : null;
  if (!shard || shard.count < 1 || shard.index >= shard.count) throw new DataError(`--shard must be i/n with 0 ≤ i < n, got "${spec}"`);
  return shard;
}

/** The contiguous block of items shard i/n takes. */
export function shardItems<T>(items: T[], shard?: Shard): T[] {
  if (!shard) return items;
  const lo = Math.floor((shard.index * items.length) / shard.count);
  const hi = Math.floor(((shard.index + 1) * items.length) / shard.count);
  return items.slice(lo, hi);
}

/** The plan of extracting `items` (already sharded) with front-end `fe`. */
export function makePlan(items: DatasetItem[], fe: FrontEndInfo, opts: { maxSeconds?: number; shard?: Shard }): ExtractionPlan {
  const h = crypto.createHash('sha256');
  for (const it of items) h.update(`${it.id}\0${it.path}\0${it.label}\n`);
  return {
    frontEnd: fe.id,
    fingerprint: fe.fingerprint,
    layers: fe.layers,
    dims: fe.dims,
    pooling: fe.pooling,
    maxSeconds: opts.maxSeconds ?? null,
    shard: opts.shard ?? null,
    items: items.length,
    digest: h.digest('hex'),
  };
}
