/**
 * Joins shard stores (`extract --shard i/n`) into one store in the original item order. Every shard of the same
 * extraction must be there once; the result is written atomically like an unsharded store, holding `<out>.lock`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readCsv } from '../data/csv';
import { DataError } from '../errors';
import { Lock, acquireLock } from '../lock';
import type { ExtractionPlan } from './plan';
import { ERRORS_FILE, LayerArray, StoreMeta, readMeta, readStore, writeStoreAtomic } from './store';

export function mergeStores(shardDirs: string[], out: string): { rows: number; shards: number } {
  const lock = acquireLock(out);
  try {
    return mergeInto(shardDirs, out, lock);
  } finally {
    lock.release();
  }
}

function mergeInto(shardDirs: string[], out: string, lock: Lock): { rows: number; shards: number } {
  if (fs.existsSync(out)) throw new DataError('output path exists; choose another --out', out);
  const shards = shardDirs.map((dir) => {
    const file = path.join(dir, 'meta.json');
    if (!fs.existsSync(file)) throw new DataError('not a shard store: meta.json is missing', dir);
    const plan = readMeta(dir)!.extraction as ExtractionPlan | undefined;
    if (!plan?.shard) throw new DataError('not a shard store (extracted without --shard)', dir);
    return { dir, plan };
  });
  const count = shards[0].plan.shard!.count;
  shards.sort((a, b) => a.plan.shard!.index - b.plan.shard!.index);
  shards.forEach((s, i) => {
    const p = s.plan;
    if (p.shard!.count !== count || p.shard!.index !== i)
      throw new DataError(`expected shards 0…${count - 1} of ${count} once each, got ${p.shard!.index}/${p.shard!.count}`, s.dir);
    if (
      p.frontEnd !== shards[0].plan.frontEnd ||
      p.fingerprint !== shards[0].plan.fingerprint ||
      JSON.stringify(p.layers) !== JSON.stringify(shards[0].plan.layers) ||
      p.pooling !== shards[0].plan.pooling ||
      p.maxSeconds !== shards[0].plan.maxSeconds
    ) {
      throw new DataError('shard was extracted with another model, layers, --pool or --max-seconds than shard 0', s.dir);
    }
  });
  if (shards.length !== count) throw new DataError(`${shards.length} shard stores given, the extraction has ${count}`);
  const stores = shards.map((s) => readStore(s.dir, { std: shards[0].plan.pooling === 'mean,std' }));
  const join = (pick: (s: (typeof stores)[number]) => Map<number, LayerArray>) => {
    const joined = new Map<number, LayerArray>();
    for (const k of pick(stores[0]).keys()) {
      const parts = stores.map((s) => pick(s).get(k)!);
      const n = parts.reduce((a, p) => a + p.n, 0);
      const data = new Float32Array(n * parts[0].d); // [N, d]
      let off = 0;
      for (const p of parts) {
        data.set(p.data, off);
        off += p.data.length;
      }
      joined.set(k, { data, n, d: parts[0].d });
    }
    return joined;
  };
  const layers = join((s) => s.layers);
  const std = join((s) => s.std);
  const first = shards[0].plan;
  const meta: StoreMeta = {
    model: first.frontEnd,
    model_fingerprint: first.fingerprint ?? null,
    layers: first.layers,
    pooling: first.pooling,
    extraction: { ...first, shard: null, items: shards.reduce((a, s) => a + s.plan.items, 0), digest: 'merged' },
  };
  const errors = shards.flatMap((s) => (fs.existsSync(path.join(s.dir, ERRORS_FILE)) ? readCsv(path.join(s.dir, ERRORS_FILE)).rows : []));
  writeStoreAtomic(out, { index: stores.flatMap((s) => s.index), layers, std, meta }, errors, lock);
  return { rows: layers.values().next().value!.n, shards: count };
}
