/**
 * A cluster extraction on SLURM: submit the shards that are not finished and the merge, follow them, say what
 * failed. What was submitted is recorded in `<out>.slurm/run.json` (layout.ts), so that the same command run again
 * resubmits only what is unfinished, and `slurm status` can tell every shard's state.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic';
import { DataError, UsageError, WavprobeError } from '../errors';
import { shardItems } from '../features/plan';
import { lockFile, withLock } from '../lock';
import {
  exitDir,
  isFinished,
  logsDir,
  mergeExit,
  mergeLog,
  readExit,
  runFile,
  shardDir,
  shardExit,
  shardFilesDone,
  shardLog,
  slurmDir,
} from './layout';
import { ClusterExtraction, SlurmResources, arrayScript, mergeScript } from './sbatch';
import { activeJobs, sbatch, scancel } from './scheduler';

/** A job of this extraction that failed, was cancelled or was killed; the message names it and its log. */
export class ClusterJobError extends WavprobeError {}

export interface Submission {
  /** The array job, or null when every shard was already finished. */
  array: string | null;
  /** The shards it runs (array indices). */
  shards: number[];
  merge: string;
  submitted: string;
}

/** `<out>.slurm/run.json`. */
export interface RunRecord {
  extraction: Pick<ClusterExtraction, 'extractArgs' | 'tasks' | 'cwd'>;
  /** Files of each shard. */
  shardFiles: number[];
  submissions: Submission[];
}

export type ShardStateName = 'complete' | 'pending' | 'running' | 'failed' | 'stopped' | 'not submitted';

export interface ShardState {
  index: number;
  done: number;
  total: number;
  state: ShardStateName;
  /** `<array>_<i>` of the last submission that ran it. */
  job?: string;
  exit?: number | null;
  log?: string;
}

export interface RunStatus {
  out: string;
  shards: ShardState[];
  merge: { state: ShardStateName | 'waiting'; job?: string; exit?: number | null; log?: string };
  /** Jobs of the last submission still queued or running. */
  active: string[];
}

export function readRun(out: string): RunRecord | null {
  if (!fs.existsSync(runFile(out))) return null;
  try {
    return JSON.parse(fs.readFileSync(runFile(out), 'utf8'));
  } catch (e) {
    throw new DataError(`not valid JSON (${(e as Error).message}); delete ${slurmDir(out)} to start the submissions over`, runFile(out));
  }
}

const sameExtraction = (a: RunRecord['extraction'], b: RunRecord['extraction']) =>
  JSON.stringify([a.extractArgs, a.tasks, a.cwd]) === JSON.stringify([b.extractArgs, b.tasks, b.cwd]);

/** The shards whose store is not finished: what a submission runs. */
export const unfinishedShards = (out: string, tasks: number): number[] => [...Array(tasks).keys()].filter((i) => !isFinished(shardDir(out, i)));

/** The jobs write their logs and exit statuses there, and sbatch does not create folders. */
function makeJobFolders(out: string): void {
  fs.mkdirSync(logsDir(out), { recursive: true });
  fs.mkdirSync(exitDir(out), { recursive: true });
}

/**
 * For submitting by hand: the array script of the unfinished shards to `file`, the merge script beside it
 * (`<name>-merge<ext>`), and the folders their jobs write to. Returns the merge script's path.
 */
export function writeScripts(x: ClusterExtraction, r: SlurmResources, file: string): string {
  const ext = path.extname(file);
  const mergeFile = `${file.slice(0, file.length - ext.length)}-merge${ext}`;
  makeJobFolders(x.out);
  fs.writeFileSync(file, arrayScript(x, r, unfinishedShards(x.out, x.tasks)));
  fs.writeFileSync(mergeFile, mergeScript(x, r));
  return mergeFile;
}

export interface SubmitResult {
  /** null when `out` was already complete or the previous submission is still running (`running` then). */
  submission: Submission | null;
  /** Still queued or running from an earlier identical submission: nothing was submitted. */
  running: string[];
  /** Stale locks removed from shards whose jobs are gone. */
  notes: string[];
}

/**
 * Submits the array of unfinished shards of `x` (all of them at first) and the merge after it. Run again after
 * a failure or a cancel it submits only what is unfinished (partial shards resume from their journals); while an
 * identical earlier submission still runs it submits nothing. `files` is the number of dataset items.
 */
export function submitExtraction(x: ClusterExtraction, r: SlurmResources, files: number): Promise<SubmitResult> {
  if (isFinished(x.out)) return Promise.resolve({ submission: null, running: [], notes: [] });
  fs.mkdirSync(slurmDir(x.out), { recursive: true });
  return withLock(slurmDir(x.out), () => {
    const extraction = { extractArgs: x.extractArgs, tasks: x.tasks, cwd: x.cwd };
    const shardFiles = Array.from({ length: x.tasks }, (_, i) => shardItems(Array.from({ length: files }), { index: i, count: x.tasks }).length);
    const run: RunRecord = readRun(x.out) ?? { extraction, shardFiles, submissions: [] };
    if (!sameExtraction(run.extraction, extraction) || JSON.stringify(run.shardFiles) !== JSON.stringify(shardFiles)) {
      throw new UsageError(
        `another extraction was submitted into this --out (${run.extraction.tasks} tasks: ${run.extraction.extractArgs.join(' ')}); ` +
          `rerun that one, or delete ${slurmDir(x.out)} and ${x.out}.shards to start over`,
        runFile(x.out),
      );
    }
    const running = jobsOf(run.submissions.at(-1), activeJobs());
    if (running.length) return { submission: null, running, notes: [] };
    const todo = unfinishedShards(x.out, x.tasks);
    // No job of this extraction is queued or running: a lock left by a killed task or merge can belong to no one.
    const notes: string[] = [];
    for (const target of [...todo.map((i) => shardDir(x.out, i)), x.out]) {
      const lock = lockFile(target);
      if (fs.existsSync(lock)) {
        notes.push(`removed ${lock}, left by a job that is no longer queued (${fs.readFileSync(lock, 'utf8').trim()})`);
        fs.rmSync(lock, { force: true });
      }
    }
    makeJobFolders(x.out);
    const arrayFile = `${slurmDir(x.out)}/extract.sbatch`;
    const mergeFile = `${slurmDir(x.out)}/merge.sbatch`;
    writeFileAtomic(mergeFile, mergeScript(x, r));
    let array: string | null = null;
    if (todo.length) {
      writeFileAtomic(arrayFile, arrayScript(x, r, todo));
      array = sbatch(arrayFile);
    }
    const record = (merge: string) => {
      const submission = { array, shards: todo, merge, submitted: new Date().toISOString() };
      writeFileAtomic(runFile(x.out), JSON.stringify({ ...run, submissions: [...run.submissions, submission] }, null, 1) + '\n');
      return submission;
    };
    let merge: string;
    try {
      // kill-on-invalid-dep: a failed or cancelled task ends the merge job instead of leaving it pending for ever.
      merge = sbatch(mergeFile, array ? [`--dependency=afterok:${array}`, '--kill-on-invalid-dep=yes'] : []);
    } catch (e) {
      if (array) {
        record('');
        scancel([array]);
      }
      throw e;
    }
    return { submission: record(merge), running: [], notes };
  });
}

/** The job ids of a submission as squeue shows them (`<array>_<i>`, `<merge>`) that are still there. */
function jobsOf(s: Submission | undefined, active: Map<string, string>): string[] {
  if (!s) return [];
  const ids = [...s.shards.map((i) => `${s.array}_${i}`), s.merge];
  return ids.filter((id) => active.has(id));
}

const queueState = (squeue: string): ShardStateName => (squeue === 'PENDING' ? 'pending' : 'running');

/** Every shard's files done and state, and the merge's, from run.json, the shard journals, exit markers and squeue. */
export function runStatus(out: string, active: Map<string, string> = activeJobs()): RunStatus {
  const run = readRun(out);
  if (!run) throw new UsageError('no SLURM submission recorded here (submit with `wavprobe slurm extract … --submit`)', runFile(out));
  const last = run.submissions.at(-1);
  const shards = run.shardFiles.map((total, i): ShardState => {
    const done = shardFilesDone(out, i);
    const s: ShardState = { index: i, done, total, state: 'not submitted' };
    const sub = [...run.submissions].reverse().find((x) => x.array && x.shards.includes(i));
    if (sub) {
      s.job = `${sub.array}_${i}`;
      s.log = shardLog(out, i, sub.array!);
    }
    if (isFinished(shardDir(out, i))) return { ...s, state: 'complete' };
    if (!sub) return s;
    const q = active.get(s.job!);
    if (q) return { ...s, state: queueState(q) };
    s.exit = readExit(shardExit(out, i, sub.array!));
    return { ...s, state: s.exit === null ? 'stopped' : 'failed' }; // exit 0 without a finished store is a failure too
  });
  const merge: RunStatus['merge'] = { state: 'waiting' };
  if (last?.merge) {
    merge.job = last.merge;
    merge.log = mergeLog(out, last.merge);
    const q = active.get(last.merge);
    if (isFinished(out)) merge.state = 'complete';
    else if (q) merge.state = q === 'PENDING' ? 'waiting' : 'running';
    else {
      merge.exit = readExit(mergeExit(out, last.merge));
      // No exit status: cancelled by SLURM after a failed task (kill-on-invalid-dep), or by hand.
      merge.state = merge.exit === null ? 'stopped' : 'failed';
    }
  }
  return { out, shards, merge, active: jobsOf(last, active) };
}

/** The last line the job printed that says what went wrong (wavprobe's one-line error), or its last line. */
function lastWords(log: string): string {
  let lines: string[];
  try {
    lines = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
  } catch {
    return 'no log';
  }
  return [...lines].reverse().find((l) => l.startsWith('wavprobe ')) ?? lines.at(-1) ?? 'empty log';
}

/** What failed in a finished run, one clause per job; empty when the store is complete. */
export function failures(st: RunStatus): string[] {
  const why = (exit: number | null | undefined) =>
    exit === null || exit === undefined ? 'ended without an exit status (cancelled, out of time or killed)' : `failed with exit status ${exit}`;
  const out = st.shards
    .filter((s) => s.state === 'failed' || s.state === 'stopped')
    .map((s) => `shard ${s.index} (job ${s.job}) ${why(s.exit)}: ${lastWords(s.log!)} [log ${s.log}]`);
  const anyShardFailed = out.length > 0;
  // A merge that SLURM ended because a task failed is not a failure of its own.
  if (!anyShardFailed && (st.merge.state === 'failed' || st.merge.state === 'stopped')) {
    out.push(`merge (job ${st.merge.job}) ${why(st.merge.exit)}: ${lastWords(st.merge.log!)} [log ${st.merge.log}]`);
  }
  return out;
}

export interface WaitOptions {
  /** Seconds between two looks at squeue and the journals (default 10). */
  pollS?: number;
  /** Called whenever a shard's files done or state, or the merge's state, changed. */
  onProgress?: (st: RunStatus) => void;
}

/**
 * Follows the last submission until none of its jobs is queued or running. Returns the final status when the
 * store is complete; throws a ClusterJobError naming every failed job and its log otherwise.
 */
export async function waitForRun(out: string, opts: WaitOptions = {}): Promise<RunStatus> {
  const pollMs = (opts.pollS ?? 10) * 1000;
  let seen = '';
  for (let failedLooks = 0; ;) {
    let active: Map<string, string>;
    try {
      active = activeJobs();
      failedLooks = 0;
    } catch (e) {
      // A busy controller times squeue out now and then: give up only when it keeps failing.
      if (++failedLooks >= 5) throw e;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      continue;
    }
    const st = runStatus(out, active);
    const key = JSON.stringify([st.shards.map((s) => [s.done, s.state]), st.merge.state]);
    if (key !== seen) opts.onProgress?.(st);
    seen = key;
    if (st.active.length === 0) {
      const failed = failures(st);
      if (failed.length === 0 && st.merge.state === 'complete') return st;
      throw new ClusterJobError(`${failed.join('; ') || `merge ${st.merge.state}`}; rerun the same command to resubmit what is unfinished`, out);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
