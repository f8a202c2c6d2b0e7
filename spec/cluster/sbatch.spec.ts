import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterExtraction, arrayScript, arraySpec, mergeScript } from '../../lib/cluster/sbatch';

const x: ClusterExtraction = {
  out: '/shared/feat/itw',
  tasks: 3,
  extractArgs: ['--model', 'weights/xls-r 300m', '--data', 'in-the-wild:/shared/itw', '--layers', 'all'],
  wavprobe: '/usr/bin/node /opt/wavprobe/bin/wavprobe.js',
  cwd: '/home/me/run',
};
const resources = { cpusPerTask: 4, mem: '16G', time: '2-00:00:00', partition: 'cpu', account: 'proj', sbatchArgs: ['--qos=long'], maxRunning: 2 };

describe('sbatch scripts', () => {
  it('writes --array as ranges and the concurrency limit', () => {
    expect(arraySpec([0, 1, 2])).toBe('0-2');
    expect(arraySpec([0, 1, 2, 3, 5, 7, 8, 9], 2)).toBe('0-3,5,7-9%2');
    expect(arraySpec([4])).toBe('4');
  });

  it('array script: one shard per task, --workers = --cpus-per-task, the options as #SBATCH lines, the exit status last', () => {
    expect(arrayScript(x, resources, [0, 1, 2]).split('\n')).toEqual([
      '#!/bin/bash',
      '# wavprobe: extracts /shared/feat/itw in 3 shards, array task i → shard i (/shared/feat/itw.shards/<i>), resuming its journal.',
      '# The shard count is written out (not $SLURM_ARRAY_TASK_COUNT): a resubmission runs only the unfinished shards.',
      '#SBATCH --array=0-2%2',
      '#SBATCH --job-name=wavprobe-extract',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --mem=16G',
      '#SBATCH --time=2-00:00:00',
      '#SBATCH --partition=cpu',
      '#SBATCH --account=proj',
      '#SBATCH --qos=long',
      '#SBATCH --chdir=/home/me/run',
      '#SBATCH --output=/shared/feat/itw.slurm/logs/shard-%a-%A.log',
      '',
      "/usr/bin/node /opt/wavprobe/bin/wavprobe.js extract --model 'weights/xls-r 300m' --data in-the-wild:/shared/itw --layers all --workers 4" +
        ' --shard "$SLURM_ARRAY_TASK_ID/3" --out /shared/feat/itw.shards/"$SLURM_ARRAY_TASK_ID"',
      'status=$?',
      'exit_file=/shared/feat/itw.slurm/exit/"shard-$SLURM_ARRAY_TASK_ID.$SLURM_ARRAY_JOB_ID"',
      'echo "$status" >"$exit_file.tmp" && mv "$exit_file.tmp" "$exit_file"',
      'exit "$status"',
      '',
    ]);
  });

  it('a resubmission lists only the unfinished shards, still of 3', () => {
    const script = arrayScript(x, { cpusPerTask: 1 }, [1]);
    expect(script).toContain('#SBATCH --array=1\n');
    expect(script).toContain('--shard "$SLURM_ARRAY_TASK_ID/3"');
    expect(script).not.toContain('--mem');
  });

  it('merge script: joins shards 0..n-1 into out on one CPU', () => {
    expect(mergeScript(x, resources).split('\n')).toEqual([
      '#!/bin/bash',
      '# wavprobe: joins the 3 shard stores of /shared/feat/itw into it, once every array task has succeeded.',
      '#SBATCH --job-name=wavprobe-merge',
      '#SBATCH --cpus-per-task=1',
      '#SBATCH --mem=16G',
      '#SBATCH --time=2-00:00:00',
      '#SBATCH --partition=cpu',
      '#SBATCH --account=proj',
      '#SBATCH --qos=long',
      '#SBATCH --chdir=/home/me/run',
      '#SBATCH --output=/shared/feat/itw.slurm/logs/merge-%j.log',
      '',
      '/usr/bin/node /opt/wavprobe/bin/wavprobe.js merge /shared/feat/itw.shards/{0..2} --out /shared/feat/itw',
      'status=$?',
      'exit_file=/shared/feat/itw.slurm/exit/"merge.$SLURM_JOB_ID"',
      'echo "$status" >"$exit_file.tmp" && mv "$exit_file.tmp" "$exit_file"',
      'exit "$status"',
      '',
    ]);
  });

  it('run by bash as SLURM would: the arguments a task passes and the exit status it records', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-sbatch-'));
    try {
      // A stand-in for wavprobe that prints its arguments one per line and fails with status 3.
      const fake = path.join(tmp, 'fake wavprobe.sh');
      fs.writeFileSync(fake, '#!/bin/sh\nprintf "%s\\n" "$@"\nexit 3\n', { mode: 0o755 });
      const out = path.join(tmp, "it's out");
      fs.mkdirSync(`${out}.slurm/exit`, { recursive: true });
      const job = { ...x, out, wavprobe: `'${fake.replace(/'/g, `'\\''`)}'`, extractArgs: ['--data', 'csv:a b.csv'] };
      const env = { PATH: process.env.PATH, SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_JOB_ID: '77', SLURM_JOB_ID: '78' };
      const task = spawnSync('bash', ['-c', arrayScript(job, { cpusPerTask: 2 }, [0, 1, 2])], { env, encoding: 'utf8' });
      expect(task.status).toBe(3);
      expect(task.stdout.split('\n')).toEqual([
        'extract',
        '--data',
        'csv:a b.csv',
        '--workers',
        '2',
        '--shard',
        '1/3',
        '--out',
        `${out}.shards/1`,
        '',
      ]);
      expect(fs.readFileSync(`${out}.slurm/exit/shard-1.77`, 'utf8')).toBe('3\n');
      const merge = spawnSync('bash', ['-c', mergeScript(job, { cpusPerTask: 2 })], { env, encoding: 'utf8' });
      expect(merge.stdout.split('\n')).toEqual(['merge', `${out}.shards/0`, `${out}.shards/1`, `${out}.shards/2`, '--out', out, '']);
      expect(fs.readFileSync(`${out}.slurm/exit/merge.78`, 'utf8')).toBe('3\n');
      expect(fs.readdirSync(`${out}.slurm/exit`).sort()).toEqual(['merge.78', 'shard-1.77']); // no .tmp left
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
