/** The SLURM commands wavprobe uses: sbatch to submit, squeue to see what is queued or running, scancel. */
import { spawnSync } from 'child_process';
import { UsageError } from '../errors';

function slurm(command: string, args: string[], input?: string): string {
  const r = spawnSync(command, args, { encoding: 'utf8', input });
  if (r.error) {
    const why = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found: run this on a SLURM login node' : r.error.message;
    throw new UsageError(`${command} ${why}`);
  }
  if (r.status !== 0) throw new UsageError(`${command} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Submits a script file; returns the job id (sbatch --parsable prints `id` or `id;cluster`). */
export function sbatch(script: string, options: string[] = []): string {
  const id = slurm('sbatch', ['--parsable', ...options, script])
    .trim()
    .split(';')[0];
  if (!/^\d+$/.test(id)) throw new UsageError(`sbatch printed "${id}", not a job id`);
  return id;
}

/**
 * This user's queued and running jobs: job id (`123`, or `123_4` for an element of array 123) → state (PENDING,
 * RUNNING, COMPLETING, …). A job that has ended is not there.
 */
export function activeJobs(): Map<string, string> {
  const jobs = new Map<string, string>();
  // -r: one line per array element, pending ones included.
  for (const line of slurm('squeue', ['--me', '-h', '-r', '-o', '%i %T']).split('\n')) {
    const [id, state] = line.trim().split(/\s+/);
    if (id && state) jobs.set(id, state);
  }
  return jobs;
}

export function scancel(ids: string[]): void {
  if (ids.length) slurm('scancel', ids);
}
