import { resolveShard, shardFromEnv } from '../../lib/cluster/shard';
import { UsageError } from '../../lib/errors';

describe('extract --shard auto', () => {
  it('takes the shard of a SLURM array task from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT', () => {
    const env = { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '5', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '4' };
    expect(shardFromEnv(env)).toEqual({ index: 2, count: 5 });
    expect(resolveShard('auto', undefined, env)).toEqual({ index: 2, count: 5 });
  });

  it('needs --shards for an array that is not 0..n-1 (a resubmission of some shards), and then uses it', () => {
    const env = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '3' };
    expect(() => shardFromEnv(env)).toThrow('the job array is 1..3 with 2 tasks, not 0..n-1; give --shards N');
    expect(shardFromEnv(env, 4)).toEqual({ index: 3, count: 4 });
  });

  it("takes a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with --shards N, and says when --shards is missing", () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0' }, 3)).toEqual({ index: 0, count: 3 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '2' }, 3)).toEqual({ index: 2, count: 3 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '1' })).toThrow("needs --shards N (the Job's completions)");
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '3' }, 3)).toThrow('--shard must be i/n with 0 ≤ i < n, got "3/3"');
  });

  it('refuses clearly when neither scheduler set its variables', () => {
    const run = () => resolveShard('auto', undefined, { PATH: '/usr/bin' });
    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      '--shard auto needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a SLURM job array) or JOB_COMPLETION_INDEX with --shards N (a Kubernetes Indexed Job); neither is set',
    );
  });

  it('keeps i/n as it was, and refuses --shards beside it', () => {
    expect(resolveShard('1/4', undefined, {})).toEqual({ index: 1, count: 4 });
    expect(() => resolveShard('1/4', 4, {})).toThrow('--shards goes with --shard auto');
  });
});
