/** slurm status and --wait's verdict from the files a run leaves (no SLURM: squeue's answer is given). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { failures, runStatus, RunRecord } from '../../lib/cluster/slurm';

let tmp: string;
let out: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-status-'));
  out = path.join(tmp, 'feat');
  const run: RunRecord = {
    extraction: { extractArgs: ['--model', 'm', '--data', 'csv:d.csv'], tasks: 4, cwd: tmp },
    shardFiles: [3, 3, 3, 4],
    submissions: [
      { array: '10', shards: [0, 1, 2, 3], merge: '11', submitted: '2026-12-06T00:00:00Z' },
      { array: '20', shards: [1, 2, 3], merge: '21', submitted: '2026-12-06T01:00:00Z' },
    ],
  };
  fs.mkdirSync(`${out}.slurm/exit`, { recursive: true });
  fs.mkdirSync(`${out}.slurm/logs`, { recursive: true });
  fs.writeFileSync(`${out}.slurm/run.json`, JSON.stringify(run));
  // Shard 0: finished in the first submission. Shard 1: 2 files committed, then exit status 1.
  fs.mkdirSync(`${out}.shards/0`, { recursive: true });
  fs.writeFileSync(`${out}.shards/0/meta.json`, JSON.stringify({ extraction: { items: 3 } }));
  fs.mkdirSync(`${out}.shards/1.partial`, { recursive: true });
  fs.writeFileSync(`${out}.shards/1.partial/status.bin`, Buffer.from([1, 2]));
  fs.writeFileSync(`${out}.slurm/exit/shard-1.20`, '1\n');
  fs.writeFileSync(`${out}.slurm/logs/shard-1-20.log`, 'loading\nwavprobe extract: /m: weights missing\ntrailing noise\n');
  // Shard 2: no exit status (cancelled); shard 3: 1 file, exit status written only in the first submission.
  fs.writeFileSync(`${out}.slurm/logs/shard-2-20.log`, 'slurmstepd: *** CANCELLED ***\n');
  fs.mkdirSync(`${out}.shards/3.partial`, { recursive: true });
  fs.writeFileSync(`${out}.shards/3.partial/status.bin`, Buffer.from([1]));
  fs.writeFileSync(`${out}.slurm/exit/shard-3.10`, '0\n');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('runStatus', () => {
  it("tells each shard's files and state from its store, journal, exit status and squeue, by the last submission that ran it", () => {
    const st = runStatus(
      out,
      new Map([
        ['20_3', 'RUNNING'],
        ['21', 'PENDING'],
      ]),
    );
    expect(st.shards.map((s) => [s.index, s.done, s.total, s.state, s.job ?? null, s.exit ?? null])).toEqual([
      [0, 3, 3, 'complete', '10_0', null],
      [1, 2, 3, 'failed', '20_1', 1],
      [2, 0, 3, 'stopped', '20_2', null],
      [3, 1, 4, 'running', '20_3', null],
    ]);
    expect(st.merge).toEqual({ state: 'waiting', job: '21', log: `${out}.slurm/logs/merge-21.log` });
    expect(st.active).toEqual(['20_3', '21']);
  });

  it('names every failed or stopped shard, its last wavprobe error line and its log; a merge ended by SLURM is not one more', () => {
    const st = runStatus(out, new Map());
    expect(st.merge.state).toBe('stopped');
    expect(failures(st)).toEqual([
      `shard 1 (job 20_1) failed with exit status 1: wavprobe extract: /m: weights missing [log ${out}.slurm/logs/shard-1-20.log]`,
      `shard 2 (job 20_2) ended without an exit status (cancelled, out of time or killed): slurmstepd: *** CANCELLED *** [log ${out}.slurm/logs/shard-2-20.log]`,
      `shard 3 (job 20_3) ended without an exit status (cancelled, out of time or killed): no log [log ${out}.slurm/logs/shard-3-20.log]`,
    ]);
  });

  it('names a failed merge when every shard finished', () => {
    const done = path.join(tmp, 'merged');
    fs.mkdirSync(`${done}.slurm/exit`, { recursive: true });
    fs.mkdirSync(`${done}.shards/0`, { recursive: true });
    fs.writeFileSync(`${done}.shards/0/meta.json`, JSON.stringify({ extraction: { items: 2 } }));
    const run: RunRecord = {
      extraction: { extractArgs: [], tasks: 1, cwd: tmp },
      shardFiles: [2],
      submissions: [{ array: '5', shards: [0], merge: '6', submitted: '' }],
    };
    fs.writeFileSync(`${done}.slurm/run.json`, JSON.stringify(run));
    fs.writeFileSync(`${done}.slurm/exit/merge.6`, '1\n');
    expect(failures(runStatus(done, new Map()))).toEqual([`merge (job 6) failed with exit status 1: no log [log ${done}.slurm/logs/merge-6.log]`]);
  });
});
