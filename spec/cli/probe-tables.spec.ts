/** `wavprobe probe --out`: the paper-style table.md, table.csv and table.tex agree with the probe's own metrics. */
import * as fs from 'fs';
import * as path from 'path';
import { readCsv } from '../../lib/data/csv';
import { llrsFromProbs, minDcf } from '../../lib/metrics/asvspoof5';
import { scoreStore, trainHead } from '../../lib/probe/head';
import { runCli } from '../helpers/cli';
import { gaussianStore, tmpDir } from '../helpers/probe';

let dir: string;
const store = (name: string, seed: number) => {
  const d = path.join(dir, name);
  gaussianStore(d, { seed, n: 160, nSpoof: 80 });
  return d;
};
let train: string, evalA: string, evalB: string, evalC: string;
beforeAll(() => {
  dir = tmpDir();
  train = store('train', 1);
  evalA = store('a', 3);
  evalB = store('b', 4);
  evalC = store('c_set', 5);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SETS = ['a', 'b', 'c_set'];

describe('wavprobe probe: paper-style tables', () => {
  it('writes table.md, table.csv and table.tex with one row per layer: per set EER, ECE, min_dcf and their mean', async () => {
    const out = path.join(dir, 'report');
    const r = await runCli(['probe', '--train', train, '--eval', evalA, evalB, evalC, '--C', '10', '--calibrate-on', '0.25', '--out', out, '--json']);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const j = JSON.parse(r.stdout) as { layers: { layer: number; eval: Record<string, Record<string, number>> }[] };

    const { header, rows } = readCsv(path.join(out, 'table.csv'));
    expect(header).toEqual(['layer', ...[...SETS, 'mean'].flatMap((n) => [`${n}_eer`, `${n}_ece`, `${n}_min_dcf`])]);
    expect(rows.map((x) => x.layer)).toEqual(j.layers.map((l) => String(l.layer)));
    for (const [i, l] of j.layers.entries()) {
      for (const n of SETS) {
        expect(Number(rows[i][`${n}_eer`])).toBe(l.eval[n].eer_asvspoof);
        expect(Number(rows[i][`${n}_ece`])).toBe(l.eval[n].ece_15);
        expect(Number(rows[i][`${n}_min_dcf`])).toBe(l.eval[n].min_dcf);
      }
      const mean = (k: string) => SETS.reduce((s, n) => s + l.eval[n][k], 0) / SETS.length;
      expect(Number(rows[i].mean_eer)).toBeCloseTo(mean('eer_asvspoof'), 12);
      expect(Number(rows[i].mean_ece)).toBeCloseTo(mean('ece_15'), 12);
      expect(Number(rows[i].mean_min_dcf)).toBeCloseTo(mean('min_dcf'), 12);
    }

    // min_dcf from an independent path: the library's head, scored, through ASVspoof 5's minDcf.
    const head = trainHead(train, 1, { C: 10, calibrateOn: 0.25 });
    const s = scoreStore(head, evalB);
    expect(j.layers[1].eval.b.min_dcf).toBeCloseTo(minDcf(llrsFromProbs(s.probs, 0.5), s.labels), 12);

    const md = fs.readFileSync(path.join(out, 'table.md'), 'utf8').trim().split('\n');
    expect(md[0]).toBe(`| layer | ${[...SETS, 'mean'].flatMap((n) => [`${n} EER %`, `${n} ECE %`, `${n} minDCF`]).join(' | ')} |`);
    expect(md).toHaveLength(2 + j.layers.length);
    // EER % with two decimals.
    expect(md[3].split(' | ')[1]).toBe((100 * j.layers[1].eval.a.eer_asvspoof).toFixed(2));

    const tex = fs.readFileSync(path.join(out, 'table.tex'), 'utf8').trim().split('\n');
    expect(tex[0]).toBe('\\begin{tabular}{lrrrrrrrrrrrr}');
    expect(tex[tex.length - 1]).toBe('\\end{tabular}');
    expect(tex.join('\n')).toContain('\\multicolumn{3}{c}{c\\_set}');
    const body = tex.filter((l) => /^\d+ & /.test(l));
    expect(body.map((l) => l.split(' & ')[0])).toEqual(j.layers.map((l) => String(l.layer)));
    for (const l of body) {
      expect(l.endsWith(' \\\\')).toBe(true);
      expect(l.split(' & ')).toHaveLength(1 + 3 * 4);
    }
  });
});
