/**
 * One writer per output (hardening class 1): two extractions on the same --out used to interleave their journals
 * and build a store whose rows held other files' features, with exit code 0.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readDataset } from '../lib/data';
import { extractFeatures } from '../lib/features/extract';
import { lfccFrontEnd } from '../lib/features/frontends';
import { acquireLock, lockFile } from '../lib/lock';
import { runCli } from './helpers/cli';

const ROOT = path.join(__dirname, '..');
const DEV = `in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'dev')}`;
const items = readDataset(DEV).slice(0, 12);
const storeBytes = (dir: string) =>
  Object.fromEntries(['index.csv', 'layer_00.npy'].map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));

let tmp: string;
let reference: string;
let shards: string[];
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-lock-'));
  reference = path.join(tmp, 'reference');
  await extractFeatures(items, lfccFrontEnd(), reference);
  shards = [0, 1].map((i) => path.join(tmp, `shard${i}`));
  for (const [i, dir] of shards.entries()) await extractFeatures(items, lfccFrontEnd(), dir, { shard: { index: i, count: 2 } });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

const writeLock = (target: string, owner: object) => fs.writeFileSync(lockFile(target), JSON.stringify(owner));

describe('writer locks', () => {
  it('a second extract on the same --out while the first runs exits 1 naming pid and host; the first finishes a correct store', async () => {
    const out = path.join(tmp, 'contended');
    const paused = path.join(tmp, 'paused');
    const go = path.join(tmp, 'go');
    // A child extraction that stops after 4 files until told to go on: the state in which a second writer once
    // appended its own rows to the same journal.
    const script = `
      const fs = require('fs');
      const { readDataset } = require('./lib/data');
      const { extractFeatures } = require('./lib/features/extract');
      const { lfccFrontEnd } = require('./lib/features/frontends');
      const wait = new Int32Array(new SharedArrayBuffer(4));
      extractFeatures(readDataset(${JSON.stringify(DEV)}).slice(0, 12), lfccFrontEnd(), ${JSON.stringify(out)}, {
        onProgress: (p) => {
          if (p.done !== 4) return;
          fs.writeFileSync(${JSON.stringify(paused)}, '');
          while (!fs.existsSync(${JSON.stringify(go)})) Atomics.wait(wait, 0, 0, 20);
        },
      }).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
    const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['-e', script], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let childErr = '';
    child.stderr.on('data', (d) => (childErr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(paused) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(paused)).toBe(true);

    const second = await runCli(['extract', '--model', 'lfcc', '--data', DEV, '--out', out]);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `^wavprobe extract: another wavprobe is writing ${out} \\(pid \\d+ on host ${os.hostname()}, since [^)]+\\); if no such process is running, delete ${lockFile(out)}\\n$`,
      ),
    );
    // The first writer's journal is untouched: 4 committed items.
    expect(fs.statSync(path.join(`${out}.partial`, 'status.bin')).size).toBe(4);

    fs.writeFileSync(go, '');
    expect([await exited, childErr]).toEqual([0, '']);
    expect(storeBytes(out)).toEqual(storeBytes(reference));
    expect(fs.existsSync(lockFile(out))).toBe(false);
  });

  it('takes over a lock whose process is gone from this host, and removes what that process left', async () => {
    const out = path.join(tmp, 'stale');
    writeLock(out, { pid: deadPid(), host: os.hostname(), started: '2026-01-01T00:00:00.000Z', command: 'wavprobe extract' });
    const strayDir = `${out}.tmp-${deadPid()}`;
    fs.mkdirSync(strayDir);
    fs.writeFileSync(path.join(strayDir, 'index.csv'), 'half a store');
    await extractFeatures(items, lfccFrontEnd(), out);
    expect(storeBytes(out)).toEqual(storeBytes(reference));
    expect(fs.existsSync(strayDir)).toBe(false);
    expect(fs.existsSync(lockFile(out))).toBe(false);
  });

  it("never breaks another host's lock (its processes cannot be seen): the error says which file to delete", async () => {
    const out = path.join(tmp, 'remote');
    writeLock(out, { pid: 4242, host: 'node-17.cluster', started: '2026-01-01T00:00:00.000Z', command: 'wavprobe extract' });
    await expect(extractFeatures(items, lfccFrontEnd(), out)).rejects.toThrow(`another wavprobe is writing ${out} (pid 4242 on host node-17.cluster`);
    fs.rmSync(lockFile(out));
  });

  it('merge, train --out, probe --out and eval --out refuse an output another writer holds', async () => {
    const head = path.join(tmp, 'head.json');
    const report = path.join(tmp, 'report');
    const merged = path.join(tmp, 'merged');
    const cases: [string, string[]][] = [
      [merged, ['merge', ...shards, '--out', merged]],
      [head, ['train', '--features', reference, '--layer', '0', '--C', '1', '--out', head]],
      [report, ['probe', '--train', reference, '--eval', reference, '--C', '1', '--out', report]],
      [report, ['eval', '--head', head, '--features', reference, '--out', report]],
    ];
    for (const [target, args] of cases) {
      const held = acquireLock(target);
      const r = await runCli(args);
      held.release();
      expect([args[0], r.exitCode, r.stderr]).toEqual([
        args[0],
        1,
        expect.stringContaining(`another wavprobe is writing ${target} (pid ${process.pid} on host ${os.hostname()}`),
      ]);
      expect(fs.existsSync(target)).toBe(false);
    }
    // Unheld, the same commands run (train first: eval needs its head) and leave no lock behind.
    for (const [target, args] of [cases[1], cases[0], cases[2], cases[3]]) {
      const r = await runCli(args);
      expect([args[0], r.exitCode, r.stderr]).toEqual([args[0], 0, '']);
      expect(fs.existsSync(lockFile(target))).toBe(false);
    }
    expect(storeBytes(merged)).toEqual(storeBytes(reference));
  });

  it('a writer whose lock was taken over learns it before renaming its output into place', () => {
    const target = path.join(tmp, 'taken');
    const lock = acquireLock(target);
    lock.assertHeld();
    writeLock(target, { pid: 1, host: 'elsewhere', started: '2026-01-01T00:00:00.000Z', command: 'wavprobe extract' });
    expect(() => lock.assertHeld()).toThrow(`lost the lock on ${target}`);
    lock.release();
    expect(fs.existsSync(lockFile(target))).toBe(true); // not ours: left alone
  });
});
