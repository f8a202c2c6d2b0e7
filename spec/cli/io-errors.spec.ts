/**
 * I/O failures are one line naming the path and the cause, and lose nothing (hardening class 10): a full disk
 * while extracting or writing a head, and a corrupt meta.json, used to print stack traces (exit 70), and a stray
 * `<out>.tmp-PID` survived. The disk fills for real: writes are redirected to /dev/full, which fails every write
 * with the kernel's own ENOSPC.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../helpers/cli';

// The module object itself (an `import *` namespace is a frozen copy that jest cannot spy on).
const realFs: typeof fs = require('fs');
const ROOT = path.join(__dirname, '..', '..');
const DEV = `in-the-wild:${path.join(ROOT, 'data', 'digits-spoof', 'dev')}`;
const hasDevFull = fs.existsSync('/dev/full');
const storeBytes = (dir: string) =>
  Object.fromEntries(['index.csv', 'layer_00.npy'].map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));

let tmp: string;
let reference: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-io-'));
  reference = path.join(tmp, 'reference');
  expect((await runCli(['extract', '--model', 'lfcc', '--data', DEV, '--out', reference])).exitCode).toBe(0);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => jest.restoreAllMocks());

/** From the n-th write on, writes to files whose path matches `target` go to /dev/full instead. */
function fillDiskAt(target: RegExp, n = 1): void {
  type Loose = (...args: unknown[]) => never;
  const fdPaths = new Map<number, string>();
  const openSync = realFs.openSync as Loose;
  const writeSync = realFs.writeSync as Loose;
  const writeFileSync = realFs.writeFileSync as Loose;
  const full = realFs.openSync('/dev/full', 'w');
  let writes = 0;
  const hits = (p: unknown) => typeof p === 'string' && target.test(p) && ++writes >= n;
  jest.spyOn(realFs, 'openSync').mockImplementation(((p: unknown, ...rest: unknown[]) => {
    const fd: number = openSync(p, ...rest);
    fdPaths.set(fd, String(p));
    return fd;
  }) as Loose);
  jest
    .spyOn(realFs, 'writeSync')
    .mockImplementation(((fd: number, ...rest: unknown[]) => writeSync(hits(fdPaths.get(fd)) ? full : fd, ...rest)) as Loose);
  jest
    .spyOn(realFs, 'writeFileSync')
    .mockImplementation(((p: unknown, ...rest: unknown[]) => writeFileSync(hits(p) ? '/dev/full' : p, ...rest)) as Loose);
}

const leftovers = (dir: string, base: string) => fs.readdirSync(dir).filter((f) => f.startsWith(`${base}.tmp-`));

(hasDevFull ? describe : describe.skip)('a full disk (/dev/full)', () => {
  it('while extracting: one line naming the journal file; the rerun continues to the same store', async () => {
    const out = path.join(tmp, 'full-journal');
    fillDiskAt(/features\.f32$/, 5);
    const r = await runCli(['extract', '--model', 'lfcc', '--data', DEV, '--out', out]);
    jest.restoreAllMocks();
    expect([r.exitCode, r.stderr]).toEqual([1, `wavprobe extract: ${out}.partial/features.f32: no space left on device (ENOSPC)\n`]);
    const again = await runCli(['extract', '--model', 'lfcc', '--data', DEV, '--out', out]);
    expect([again.exitCode, again.stderr]).toEqual([0, '']);
    expect(storeBytes(out)).toEqual(storeBytes(reference));
  });

  it('while writing the finished store: one line, no temporary folder left, the journal kept for the rerun', async () => {
    const out = path.join(tmp, 'full-store');
    fillDiskAt(/layer_00\.npy\.tmp-\d+$/);
    const r = await runCli(['extract', '--model', 'lfcc', '--data', DEV, '--out', out]);
    jest.restoreAllMocks();
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^wavprobe extract: ${out}\\.tmp-\\d+/layer_00\\.npy: no space left on device \\(ENOSPC\\)\\n$`));
    expect(leftovers(tmp, 'full-store')).toEqual([]);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(`${out}.partial`)).toBe(true);
    expect((await runCli(['extract', '--model', 'lfcc', '--data', DEV, '--out', out])).exitCode).toBe(0);
    expect(storeBytes(out)).toEqual(storeBytes(reference));
  });

  it('while writing a head: one line naming the head file, nothing written', async () => {
    const head = path.join(tmp, 'head.json');
    fillDiskAt(/head\.json\.tmp-\d+$/);
    const r = await runCli(['train', '--features', reference, '--layer', '0', '--C', '1', '--out', head]);
    jest.restoreAllMocks();
    expect([r.exitCode, r.stderr]).toEqual([1, `wavprobe train: ${head}: no space left on device (ENOSPC)\n`]);
    expect(fs.existsSync(head)).toBe(false);
    expect(leftovers(tmp, 'head.json')).toEqual([]);
  });
});

describe('a corrupt store', () => {
  it('extract onto it, or train on it: one line saying what is wrong and what to do', async () => {
    const broken = path.join(tmp, 'broken');
    fs.cpSync(reference, broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'meta.json'), '{"model": "lfcc", "layers": [0');
    const x = await runCli(['extract', '--model', 'lfcc', '--data', DEV, '--out', broken]);
    expect(x.exitCode).toBe(1);
    expect(x.stderr).toMatch(
      new RegExp(
        `^wavprobe extract: ${broken}: output folder holds a corrupt feature store \\(invalid meta\\.json [^\\n]*\\); delete it and rerun, or choose another --out\\n$`,
      ),
    );
    const t = await runCli(['train', '--features', broken, '--layer', '0', '--out', path.join(tmp, 'h.json')]);
    expect([t.exitCode, t.stderr]).toEqual([
      1,
      expect.stringMatching(new RegExp(`^wavprobe train: ${broken}/meta\\.json: invalid meta\\.json [^\\n]*\\n$`)),
    ]);
  });
});
