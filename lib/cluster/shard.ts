/**
 * `extract --shard auto`: the shard of this process from the scheduler's environment, so one command line serves
 * every task of a SLURM job array or of a Kubernetes Indexed Job.
 */
import { UsageError } from '../errors';
import { Shard, parseShard } from '../features/plan';

/**
 * The shard of this task: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT (or of `shards` when given: a resubmission of
 * some indices only has fewer tasks than shards), else Kubernetes' JOB_COMPLETION_INDEX of `shards`.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv, shards?: number): Shard {
  const slurm = env.SLURM_ARRAY_TASK_ID;
  const k8s = env.JOB_COMPLETION_INDEX;
  if (slurm !== undefined) {
    const count = shards ?? env.SLURM_ARRAY_TASK_COUNT;
    if (count === undefined) throw new UsageError('--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give --shards N');
    if (shards === undefined && env.SLURM_ARRAY_TASK_MIN !== undefined && env.SLURM_ARRAY_TASK_MAX !== undefined) {
      // The count is the number of shards only for an array 0..n-1 (not e.g. --array=1,3).
      if (Number(env.SLURM_ARRAY_TASK_MIN) !== 0 || Number(env.SLURM_ARRAY_TASK_MAX) !== Number(count) - 1) {
        throw new UsageError(
          `--shard auto: the job array is ${env.SLURM_ARRAY_TASK_MIN}..${env.SLURM_ARRAY_TASK_MAX} with ${count} tasks, not 0..n-1; give --shards N`,
        );
      }
    }
    return parseShard(`${slurm}/${count}`);
  }
  if (k8s !== undefined) {
    if (shards === undefined) throw new UsageError("--shard auto in a Kubernetes Indexed Job needs --shards N (the Job's completions)");
    return parseShard(`${k8s}/${shards}`);
  }
  throw new UsageError(
    '--shard auto needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a SLURM job array) or JOB_COMPLETION_INDEX with --shards N (a Kubernetes Indexed Job); neither is set',
  );
}

/** `--shard` as given: `i/n`, or `auto` (from the environment, `shards` = `--shards`). */
export function resolveShard(spec: string, shards?: number, env: NodeJS.ProcessEnv = process.env): Shard {
  if (spec === 'auto') return shardFromEnv(env, shards);
  if (shards !== undefined) throw new UsageError('--shards goes with --shard auto (with --shard i/n, n is the count)');
  return parseShard(spec);
}
