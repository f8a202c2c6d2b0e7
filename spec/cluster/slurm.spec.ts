/**
 * Against a real SLURM (tools/slurm-cluster.sh up: one node, 2 CPUs here). The jobs run the built CLI
 * (node bin/wavprobe.js, dist/ from npm ci), as does the local extract they are compared with.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { shardDir } from '../../lib/cluster/layout';
import { readRun } from '../../lib/cluster/slurm';
import { committedItems, journalDir } from '../../lib/features/journal';
import { lockFile } from '../../lib/lock';
import { runCli } from '../helpers/cli';
import { describeWith } from '../helpers/system';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'wavprobe.js');
const WAVPROBE = `${process.execPath} ${BIN}`;
const DEMO = path.join(ROOT, 'weights', 'demo');
const DIGITS = path.join(ROOT, 'data', 'digits-spoof');

const slurm = {
  name: 'slurm',
  missing: () => {
    const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
    if (r.error) return 'sinfo is not installed';
    if (r.status !== 0) return `sinfo fails (${r.stderr.trim()})`;
    return /idle|mixed|allocated/.test(r.stdout) ? undefined : `no node is up (sinfo: ${r.stdout.trim() || 'nothing'})`;
  },
  enable: 'sudo tools/slurm-cluster.sh up',
};

/** A CSV of the first n files of the digits-spoof splits (absolute paths, so ids are unique across splits). */
function dataset(file: string, n: number): string {
  const rows = ['dev', 'eval', 'train'].flatMap((split) =>
    fs
      .readFileSync(path.join(DIGITS, split, 'meta.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((r) => path.join(DIGITS, split, r)),
  );
  fs.writeFileSync(file, ['file,speaker,label', ...rows.slice(0, n)].join('\n') + '\n');
  return `csv:${file}`;
}

const storeBytes = (dir: string) =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f === 'index.csv' || f === 'errors.csv' || f.startsWith('layer_'))
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]),
  );

/** What a plain local `wavprobe extract` of the same data writes, with the same CLI the jobs run. */
function localExtract(data: string, out: string): void {
  const r = spawnSync(process.execPath, [BIN, 'extract', '--model', DEMO, '--data', data, '--out', out], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWith(slurm, 'wavprobe slurm extract on a real SLURM', () => {
  jest.setTimeout(300_000);
  let tmp: string;
  const outs: string[] = [];
  const run = (data: string, out: string, tasks: number, ...more: string[]) => {
    outs.push(out);
    return runCli([
      'slurm',
      'extract',
      '--model',
      DEMO,
      '--data',
      data,
      '--out',
      out,
      '--tasks',
      String(tasks),
      '--poll',
      '0.3',
      '--wavprobe',
      WAVPROBE,
      ...more,
    ]);
  };

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-slurm-'));
  });
  afterAll(() => {
    // Whatever a failed test left queued.
    const ids = outs.flatMap((o) => (readRun(o)?.submissions ?? []).flatMap((s) => [s.array, s.merge].filter((x): x is string => !!x)));
    if (ids.length) spawnSync('scancel', ids);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a 3-task array and its merge write the store a local extract writes, byte for byte', async () => {
    const data = dataset(path.join(tmp, 'small.csv'), 24);
    const out = path.join(tmp, 'small');
    const r = await run(data, out, 3, '--wait');
    expect(r.stderr).toContain('wavprobe slurm: 3/3 shards complete, 24/24 files; 0 running, 0 pending; merge');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^array job (\d+) \(shards 0,1,2\), merge job (\d+)\n/);
    expect(r.stdout).toContain(`${out}: 24 files from 3 shards\n`);
    localExtract(data, path.join(tmp, 'small-local'));
    expect(storeBytes(out)).toEqual(storeBytes(path.join(tmp, 'small-local')));
    const status = await runCli(['slurm', 'status', out]);
    expect(status.stdout.split('\n')[0]).toBe(`${out}: 3/3 shards complete, 24/24 files; 0 running, 0 pending; merge complete`);
    // The same command again has nothing to do.
    expect((await run(data, out, 3, '--wait')).stdout).toBe(`${out}: already complete\n`);
  });

  it('one array task cancelled mid-run: --wait names it; the same command again resubmits only it (its lock cleared) and the merge, same store', async () => {
    const data = dataset(path.join(tmp, 'long.csv'), 240);
    const out = path.join(tmp, 'long');
    const submitted = await run(data, out, 3, '--submit');
    expect(submitted.exitCode).toBe(0);
    const array = readRun(out)!.submissions[0].array!;
    // Cancel task 1 once it has committed a few files of its 80, before it finishes.
    const journal = journalDir(shardDir(out, 1));
    for (let t = 0; committedItems(journal) < 3; t++) {
      if (t > 1200) throw new Error('shard 1 did not start within 2 minutes');
      await sleep(100);
    }
    expect(spawnSync('scancel', [`${array}_1`]).status).toBe(0);
    const waited = await run(data, out, 3, '--wait'); // an identical submission still running: follow it, submit nothing
    expect(waited.stdout).toMatch(/^still queued or running from the last submission: /);
    expect(waited.exitCode).toBe(1);
    const log = path.join(out + '.slurm', 'logs', `shard-1-${array}.log`);
    expect(waited.stderr).toContain(`wavprobe slurm: ${out}: shard 1 (job ${array}_1) `);
    expect(waited.stderr).toContain(`[log ${log}]; rerun the same command to resubmit what is unfinished\n`);
    expect(waited.stderr).not.toContain('shard 0 (');
    const kept = committedItems(journal);
    expect(kept).toBeGreaterThanOrEqual(3);
    expect(kept).toBeLessThan(80);

    // As if the task had been killed on another node: a lock no process here can prove stale.
    const lock = lockFile(shardDir(out, 1));
    fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: 'node-gone', started: '2026-01-01T00:00:00Z', command: 'extract' }) + '\n');

    const resumed = await run(data, out, 3, '--wait');
    expect(resumed.stderr).toContain(`wavprobe slurm: removed ${lock}, left by a job that is no longer queued`);
    expect(resumed.stderr).toContain('merge complete');
    expect(resumed.exitCode).toBe(0);
    const subs = readRun(out)!.submissions;
    expect(subs.map((s) => s.shards)).toEqual([[0, 1, 2], [1]]);
    localExtract(data, path.join(tmp, 'long-local'));
    expect(storeBytes(out)).toEqual(storeBytes(path.join(tmp, 'long-local')));
  });

  it('a task that fails (a model whose weights are missing) makes --wait exit non-zero naming each task and its log', async () => {
    const model = path.join(tmp, 'no-weights');
    fs.mkdirSync(model);
    for (const f of fs.readdirSync(DEMO).filter((f) => !f.endsWith('.bin'))) fs.copyFileSync(path.join(DEMO, f), path.join(model, f));
    const data = dataset(path.join(tmp, 'few.csv'), 4);
    const out = path.join(tmp, 'failing');
    outs.push(out);
    const r = await runCli([
      'slurm',
      'extract',
      '--model',
      model,
      '--data',
      data,
      '--out',
      out,
      '--tasks',
      '2',
      '--wait',
      '--poll',
      '0.3',
      '--wavprobe',
      WAVPROBE,
    ]);
    expect(r.exitCode).toBe(1);
    const { array, merge } = readRun(out)!.submissions[0];
    const last = r.stderr.trim().split('\n').at(-1)!;
    for (const i of [0, 1]) {
      const log = path.join(`${out}.slurm`, 'logs', `shard-${i}-${array}.log`);
      expect(last).toContain(`shard ${i} (job ${array}_${i}) failed with exit status 1: wavprobe extract: `);
      expect(last).toContain(`[log ${log}]`);
      expect(fs.readFileSync(log, 'utf8')).toContain('wavprobe extract: ');
    }
    expect(last).not.toContain('merge (job'); // SLURM ended the merge: its dependency can never be met
    const status = await runCli(['slurm', 'status', out]);
    expect(status.stdout).toContain(`merge: stopped (job ${merge}, exit status none, log `);
    expect(fs.existsSync(out)).toBe(false);
  });
});
