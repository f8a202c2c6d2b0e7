/** `wavprobe eval --bootstrap`: intervals in --json and report.md, by file or by speaker, and the refusals. */
import * as fs from 'fs';
import * as path from 'path';
import { writeCsv } from '../../lib/data/csv';
import { trainHead, writeHead } from '../../lib/probe/head';
import { runCli } from '../helpers/cli';
import { gaussianStore, PROBE, tmpDir } from '../helpers/probe';

let dir: string;
let store: string;
let headFile: string;
beforeAll(() => {
  dir = tmpDir();
  store = path.join(dir, 'store');
  gaussianStore(store, { n: 200, nSpoof: 150 });
  headFile = path.join(dir, 'head.json');
  writeHead(headFile, trainHead(store, 1, { C: 1, calibrateOn: 0.3 }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const KEYS = ['eer_asvspoof', 'min_dcf', 'act_dcf', 'cllr', 'ece_15'];

describe('wavprobe eval --bootstrap', () => {
  it('--json carries intervals around the point estimates, the same for the same seed; report.md shows them', async () => {
    const args = ['eval', '--head', headFile, '--features', store, '--json', '--bootstrap', '50', '--seed', '3'];
    const a = await runCli([...args, '--out', path.join(dir, 'a')]);
    expect([a.exitCode, a.stderr]).toEqual([0, '']);
    const got = JSON.parse(a.stdout);
    expect(got.bootstrap).toMatchObject({ n: 50, seed: 3, by: 'file', level: 0.95 });
    expect(Object.keys(got.intervals).sort()).toEqual([...KEYS].sort());
    for (const k of KEYS) {
      const [lo, hi] = got.intervals[k];
      expect(lo).toBeLessThanOrEqual(hi);
    }
    const b = await runCli([...args, '--out', path.join(dir, 'b')]);
    expect(JSON.parse(b.stdout)).toEqual(got);
    const md = fs.readFileSync(path.join(dir, 'a', 'report.md'), 'utf8');
    expect(md).toMatch(/95 % bootstrap intervals .*50 resamples by file, seed 3/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'a', 'report.json'), 'utf8')).bootstrap.intervals).toEqual(got.intervals);
  });

  it("--bootstrap-by speaker resamples the store's speakers", async () => {
    const r = await runCli([
      'eval',
      '--head',
      headFile,
      '--features',
      store,
      '--out',
      path.join(dir, 's'),
      '--json',
      '--bootstrap',
      '30',
      '--bootstrap-by',
      'speaker',
    ]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout).bootstrap).toMatchObject({ n: 30, seed: 0, by: 'speaker' });
  });

  it('refuses --bootstrap-by speaker without a speaker column, and --seed without --bootstrap, in one line', async () => {
    const scores = path.join(PROBE, 'scores_0.csv');
    const r = await runCli(['eval', '--scores', scores, '--json', '--bootstrap', '20', '--bootstrap-by', 'speaker']);
    expect([r.exitCode, r.stderr]).toEqual([1, `wavprobe eval: --bootstrap-by speaker needs a speaker column, and ${scores} has none\n`]);
    const seed = await runCli(['eval', '--scores', scores, '--seed', '1']);
    expect([seed.exitCode, seed.stderr]).toEqual([1, 'wavprobe eval: --seed and --bootstrap-by go with --bootstrap N\n']);
  });

  it('--scores without --out: intervals in --json; a speaker column in the score file allows --bootstrap-by speaker', async () => {
    const file = path.join(dir, 'spk.csv');
    const rows = Array.from({ length: 60 }, (_, i) => ({
      id: `u${i}`,
      label: i % 2 ? 'spoof' : 'bona-fide',
      score: ((i % 2) * 0.5 + ((i * 7) % 10) / 20).toFixed(3),
      speaker: `s${i % 6}`,
    }));
    writeCsv(file, ['id', 'label', 'score', 'speaker'], rows);
    const r = await runCli(['eval', '--scores', file, '--json', '--prior-spoof', '0.5', '--bootstrap', '40', '--bootstrap-by', 'speaker']);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const got = JSON.parse(r.stdout);
    expect(got.bootstrap).toMatchObject({ n: 40, by: 'speaker' });
    for (const k of KEYS) expect(got.intervals[k]).toHaveLength(2);
  });
});
