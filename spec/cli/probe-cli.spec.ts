import * as fs from 'fs';
import * as path from 'path';
import { layerFile, writeStore } from '../../lib/features/store';
import { runCli } from '../helpers/cli';
import { PROBE, probeJson, probeNpy, tmpDir } from '../helpers/probe';

interface Expected {
  scores: string;
  [k: string]: number | string;
}
const KEYS = ['eer_asvspoof', 'eer_roc_interpolated', 'auc', 'ece_15', 'brier', 'nll', 'accuracy_at_0.5'];

describe('wavprobe eval --scores --json', () => {
  const sets = probeJson<Expected[]>('metrics.json');
  it.each(sets.map((s) => [s.scores, s] as const))('%s: every number of metrics.json within 1e-6', async (_name, s) => {
    const r = await runCli(['eval', '--scores', path.join(PROBE, s.scores), '--json']);
    // Without --prior-spoof the prior-dependent ASVspoof 5 metrics are null (spec/cli/eval-asvspoof5.spec.ts).
    expect(r.stderr).toBe('wavprobe eval: act_dcf, cllr and min_cllr need --prior-spoof (the prior the scores were calibrated under): null\n');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const got = JSON.parse(lines[0]);
    expect(Object.keys(got).sort()).toEqual([...KEYS, 'min_dcf', 'act_dcf', 'cllr', 'min_cllr'].sort());
    for (const k of KEYS) expect(Math.abs(got[k] - (s[k] as number))).toBeLessThanOrEqual(1e-6);
  });
});

describe('wavprobe train / eval', () => {
  let dir: string;
  beforeAll(() => (dir = tmpDir()));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // The standardised C = 1e3 reference problem as a feature store (layer 0).
  const problem =
    probeJson<{ X: string; y: string; n: number; d: number; coef: number[]; intercept: number; train_accuracy: number }[]>('logreg.json')[1];
  const makeStore = (name: string) => {
    const store = path.join(dir, name);
    const X = probeNpy(problem.X);
    const y = probeNpy(problem.y).data;
    writeStore(store, {
      index: Array.from(y, (v, i) => ({ id: `f${i}`, label: v ? 'spoof' : 'bona-fide' })),
      layers: new Map([[0, { data: X.data, n: problem.n, d: problem.d }]]),
    });
    return store;
  };

  it('trains the reference optimum and evaluates it into a report directory', async () => {
    const store = makeStore('lr');
    const head = path.join(dir, 'head.json');
    const t = await runCli(['train', '--features', store, '--layer', '0', '--C', '1000', '--standardize', '--out', head]);
    expect(t.stderr).toBe('');
    expect(t.exitCode).toBe(0);
    expect(t.stdout).toMatch(/^layer 0: 1500 rows × 64, \d+ L-BFGS iterations; wrote /);
    const h = JSON.parse(fs.readFileSync(head, 'utf8'));
    const largest = Math.max(...problem.coef.map(Math.abs));
    problem.coef.forEach((c, j) => expect(Math.abs(h.weights[j] - c)).toBeLessThanOrEqual(1e-3 * largest));
    expect(h.temperature).toBe(1);

    const out = path.join(dir, 'report');
    const e = await runCli(['eval', '--head', head, '--features', store, '--out', out]);
    expect(e.stderr).toBe('');
    expect(e.exitCode).toBe(0);
    expect(e.stdout).toMatch(/^head: EER 0\.00% /);
    expect(fs.readdirSync(out).sort()).toEqual(
      ['det.png', 'det.svg', 'reliability.png', 'reliability.svg', 'report.json', 'report.md', 'scores.csv', 'selective.png', 'selective.svg'].sort(),
    );
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.sets).toHaveLength(1);
    expect(report.sets[0].metrics['accuracy_at_0.5']).toBe(problem.train_accuracy); // separable: 1.0
    expect(report.sets[0].metrics.eer_asvspoof).toBe(0);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/\| EER \(ASVspoof\) \| 0\.00% \|[\s\S]*!\[det\]\(det\.png\)/);
    // The written scores evaluate to the same metrics through --scores.
    const again = await runCli(['eval', '--scores', path.join(out, 'scores.csv'), '--prior-spoof', String(report.sets[0].prior_spoof), '--json']);
    expect(JSON.parse(again.stdout)).toEqual(report.sets[0].metrics);
  });

  it('calibrates on a held-out fraction and reports before and after', async () => {
    const store = makeStore('lr2');
    const head = path.join(dir, 'head-cal.json');
    const t = await runCli(['train', '--features', store, '--layer', '0', '--C', '1', '--calibrate-on', '0.2', '--out', head]);
    expect(t.exitCode).toBe(0);
    expect(t.stdout).toMatch(/temperature on 300 rows, NLL \d\.\d{4} → \d\.\d{4} \(T = /);
    const out = path.join(dir, 'report-cal');
    const e = await runCli(['eval', '--head', head, '--features', store, '--out', out, '--json']);
    expect(e.exitCode).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.sets.map((s: { name: string }) => s.name)).toEqual(['uncalibrated', expect.stringMatching(/^temperature-scaled \(T = /)]);
    expect(JSON.parse(e.stdout)).toEqual(report.sets[1].metrics);
  });

  it('bad input: one line on stderr naming the file, exit code 1', async () => {
    const oneClass = path.join(dir, 'one.csv');
    fs.writeFileSync(oneClass, 'id,label,score\na,spoof,0.2\nb,spoof,0.9\n');
    let r = await runCli(['eval', '--scores', oneClass, '--json']);
    expect(r).toMatchObject({
      exitCode: 1,
      stdout: '',
      stderr: `wavprobe eval: ${oneClass}: evaluation needs both classes, found only spoof (2 rows)\n`,
    });

    const nan = path.join(dir, 'nan.csv');
    fs.writeFileSync(nan, 'id,label,score\na,spoof,0.2\nb,bona-fide,nan\n');
    r = await runCli(['eval', '--scores', nan]);
    expect(r).toMatchObject({ exitCode: 1, stderr: `wavprobe eval: ${nan}: row 3: score "nan" is not a probability in [0, 1]\n` });

    const head = path.join(dir, 'head-d.json');
    const store = makeStore('lr3');
    await runCli(['train', '--features', store, '--layer', '0', '--C', '1', '--out', head]);
    const narrow = path.join(dir, 'narrow');
    writeStore(narrow, {
      index: [
        { id: 'a', label: 'spoof' },
        { id: 'b', label: 'bona-fide' },
      ],
      layers: new Map([[0, { data: new Float32Array(6), n: 2, d: 3 }]]),
    });
    r = await runCli(['eval', '--head', head, '--features', narrow, '--out', path.join(dir, 'never')]);
    expect(r).toMatchObject({ exitCode: 1, stderr: `wavprobe eval: ${layerFile(narrow, 0)}: features have 3 dimensions, the head expects 64\n` });
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);

    r = await runCli(['train', '--features', store, '--layer', '0', '--calibrate-on', '1.5', '--out', head]);
    expect(r).toMatchObject({
      exitCode: 1,
      stderr: 'wavprobe train: --calibrate-on "1.5" is neither a feature store directory nor a fraction in (0, 1)\n',
    });

    r = await runCli(['eval', '--head', head]);
    expect(r).toMatchObject({ exitCode: 1, stderr: 'wavprobe eval: give --head, --features and --out (or --scores)\n' });
  });
});
