/** `wavprobe eval`: the ASVspoof 5 metrics, the prior they need, and the ASVspoof 5 score/key files. */
import * as fs from 'fs';
import * as path from 'path';
import { actDcf, asvspoof5Metrics, cllr, llrFromProb, readScoresCsv } from '../../lib/metrics';
import { headPrior, scoreStore, trainHead, writeHead } from '../../lib/probe/head';
import { runCli } from '../helpers/cli';
import { gaussianStore, PROBE, probeJson, tmpDir } from '../helpers/probe';

const KEYS = ['min_dcf', 'act_dcf', 'cllr', 'min_cllr'] as const;
type Expected = Record<(typeof KEYS)[number] | 'prior_spoof', number>;
const golden = probeJson<{ sets: Record<string, Expected> }>('metrics5.json');
const scoresFile = (name: string) => path.join(PROBE, `${name}.csv`);

let dir: string;
beforeAll(() => (dir = tmpDir()));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A tab-separated file with a header line, as the ASVspoof 5 package reads it: header and rows of cells. */
function readTsv(file: string): { header: string[]; rows: string[][] } {
  const text = fs.readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const [header, ...rows] = text
    .slice(0, -1)
    .split('\n')
    .map((l) => l.split('\t'));
  return { header, rows };
}

describe('wavprobe eval: ASVspoof 5 metrics', () => {
  it.each(Object.entries(golden.sets))('eval --scores %s.csv --prior-spoof π --json reproduces metrics5.json', async (name, s) => {
    const r = await runCli(['eval', '--scores', scoresFile(name), '--prior-spoof', String(s.prior_spoof), '--json']);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const got = JSON.parse(r.stdout);
    for (const k of KEYS) expect(Math.abs(got[k] - s[k])).toBeLessThanOrEqual(1e-6);
    expect(got).toHaveProperty('eer_asvspoof');
  });

  it('without --prior-spoof: min_dcf, the others null, and one line on stderr saying why', async () => {
    const r = await runCli(['eval', '--scores', scoresFile('scores_0'), '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('wavprobe eval: act_dcf, cllr and min_cllr need --prior-spoof (the prior the scores were calibrated under): null\n');
    const got = JSON.parse(r.stdout);
    expect(Math.abs(got.min_dcf - golden.sets.scores_0.min_dcf)).toBeLessThanOrEqual(1e-6);
    expect([got.act_dcf, got.cllr, got.min_cllr]).toEqual([null, null, null]);
  });

  it('refuses a prior outside (0, 1), and asvspoof5 score files without a prior, in one line', async () => {
    const bad = await runCli(['eval', '--scores', scoresFile('scores_0'), '--prior-spoof', '1']);
    expect([bad.exitCode, bad.stderr]).toEqual([1, 'wavprobe eval: --prior-spoof must be a probability strictly between 0 and 1, got 1\n']);
    const noPrior = await runCli(['eval', '--scores', scoresFile('scores_0'), '--write-scores', 'asvspoof5', path.join(dir, 'x')]);
    expect([noPrior.exitCode, noPrior.stderr]).toEqual([1, 'wavprobe eval: --write-scores asvspoof5 needs --prior-spoof (its scores are LLRs)\n']);
    const format = await runCli(['eval', '--scores', scoresFile('scores_0'), '--prior-spoof', '0.5', '--write-scores', 'csv', path.join(dir, 'x')]);
    expect([format.exitCode, format.stderr]).toEqual([1, 'wavprobe eval: --write-scores takes a format and a directory: asvspoof5 DIR\n']);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });

  it('--write-scores asvspoof5 DIR: tab-separated filename/cm-score (LLR) and filename/cm-label files with a header line', async () => {
    const s = golden.sets.scores_2;
    const out = path.join(dir, 'asvspoof5');
    const r = await runCli(['eval', '--scores', scoresFile('scores_2'), '--prior-spoof', String(s.prior_spoof), '--write-scores', 'asvspoof5', out]);
    expect(r.exitCode).toBe(0);
    const set = readScoresCsv(scoresFile('scores_2'));
    const scores = readTsv(path.join(out, 'cm-scores.tsv'));
    const keys = readTsv(path.join(out, 'cm-keys.tsv'));
    expect(scores.header).toEqual(['filename', 'cm-score']);
    expect(keys.header).toEqual(['filename', 'cm-label']);
    expect(scores.rows.map((row) => row[0])).toEqual(set.ids);
    expect(keys.rows).toEqual(set.ids.map((id, i) => [id, set.labels[i] ? 'spoof' : 'bonafide']));
    scores.rows.forEach(([, v], i) => expect(Number(v)).toBe(llrFromProb(set.scores[i], s.prior_spoof)));
    // Joined on filename as the package does, the files give the reference actDCF and Cllr.
    const label = new Map(keys.rows.map(([id, l]) => [id, l === 'spoof' ? 1 : 0]));
    const llrs = scores.rows.map(([, v]) => Number(v));
    const labels = scores.rows.map(([id]) => label.get(id)!);
    expect(Math.abs(actDcf(llrs, labels) - s.act_dcf)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(cllr(llrs, labels) - s.cllr)).toBeLessThanOrEqual(1e-6);
  });

  it('--out: report.json and report.md carry the metrics and the prior; scores.csv gains an llr column', async () => {
    const out = path.join(dir, 'report');
    const r = await runCli(['eval', '--scores', scoresFile('scores_1'), '--prior-spoof', '0.5', '--out', out, '--json']);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.sets[0].prior_spoof).toBe(0.5);
    for (const k of KEYS) expect(Math.abs(report.sets[0].metrics[k] - golden.sets.scores_1[k])).toBeLessThanOrEqual(1e-6);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/\| minDCF \(ASVspoof 5\) \| 0\.9824 \|/);
    const lines = fs.readFileSync(path.join(out, 'scores.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,label,score,llr');
    const [, , score, llr] = lines[1].split(',');
    expect(Number(llr)).toBe(llrFromProb(Number(score), 0.5));
  });

  it("with a head: the head's prior by default (its calibration data's), --prior-spoof overrides it", async () => {
    const store = path.join(dir, 'store');
    gaussianStore(store, { n: 200, nSpoof: 150 });
    const head = trainHead(store, 1, { C: 1, calibrateOn: 0.3 });
    const headFile = path.join(dir, 'head.json');
    writeHead(headFile, head);
    const scored = scoreStore(head, store);
    const run = async (...extra: string[]) => {
      const r = await runCli(['eval', '--head', headFile, '--features', store, '--out', path.join(dir, 'head-report'), '--json', ...extra]);
      expect([r.exitCode, r.stderr]).toEqual([0, '']);
      return JSON.parse(r.stdout);
    };
    expect(head.calibration!.prior_spoof).toBe(0.75);
    expect(await run()).toMatchObject(asvspoof5Metrics(scored.probs, scored.labels, headPrior(head)));
    expect(await run('--prior-spoof', '0.2')).toMatchObject(asvspoof5Metrics(scored.probs, scored.labels, 0.2));
    const out = path.join(dir, 'head-asvspoof5');
    await run('--write-scores', 'asvspoof5', out);
    const { rows } = readTsv(path.join(out, 'cm-scores.tsv'));
    rows.forEach(([id, v], i) => {
      expect(id).toBe(scored.ids[i]);
      expect(Number(v)).toBeCloseTo(llrFromProb(scored.probs[i], 0.75), 9);
    });
  });
});
