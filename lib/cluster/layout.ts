/**
 * Where a cluster extraction into `<out>` keeps its files, all beside `<out>` on the shared filesystem:
 *   <out>.shards/<i>/            shard i's store (`extract --shard i/n`), with its journal <out>.shards/<i>.partial/
 *   <out>.slurm/run.json         what was submitted: the extraction and every submission's job ids
 *   <out>.slurm/extract.sbatch   the array script of the last submission; merge.sbatch the merge job's
 *   <out>.slurm/logs/            shard-<i>-<array job>.log, merge-<job>.log
 *   <out>.slurm/exit/            shard-<i>.<array job> and merge.<job>: the exit status a job script wrote last
 * Exit markers are written to a temporary name and renamed, so a reader sees a whole one or none.
 */
import * as fs from 'fs';
import * as path from 'path';
import { committedItems, journalDir } from '../features/journal';
import { readMeta } from '../features/store';

export const shardsDir = (out: string): string => `${out}.shards`;
export const shardDir = (out: string, i: number | string): string => path.join(shardsDir(out), String(i));
export const slurmDir = (out: string): string => `${out}.slurm`;
export const runFile = (out: string): string => path.join(slurmDir(out), 'run.json');
export const logsDir = (out: string): string => path.join(slurmDir(out), 'logs');
export const exitDir = (out: string): string => path.join(slurmDir(out), 'exit');
export const shardLog = (out: string, i: number, job: string): string => path.join(logsDir(out), `shard-${i}-${job}.log`);
export const mergeLog = (out: string, job: string): string => path.join(logsDir(out), `merge-${job}.log`);
export const shardExit = (out: string, i: number, job: string): string => path.join(exitDir(out), `shard-${i}.${job}`);
export const mergeExit = (out: string, job: string): string => path.join(exitDir(out), `merge.${job}`);

/** A finished store (what `extract`/`merge` rename into place last) is there. */
export const isFinished = (dir: string): boolean => fs.existsSync(path.join(dir, 'meta.json'));

/** Files of shard i done so far: all of them once its store is finished, else what its journal has committed. */
export function shardFilesDone(out: string, i: number): number {
  const dir = shardDir(out, i);
  if (isFinished(dir)) return Number((readMeta(dir)?.extraction as { items?: number } | undefined)?.items ?? 0);
  return committedItems(journalDir(dir));
}

/** The exit status a job script recorded in `file`, or null when it wrote none (still running, cancelled, killed). */
export function readExit(file: string): number | null {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}
