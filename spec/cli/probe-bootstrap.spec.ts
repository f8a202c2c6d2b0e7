/** `wavprobe probe --bootstrap N [--seed S]`: each EER with its 95 % interval in the tables; rows per feature set. */
import * as fs from 'fs';
import * as path from 'path';
import { readCsv } from '../../lib/data/csv';
import { bootstrapIntervals } from '../../lib/metrics/bootstrap';
import { readHead, scoreStore } from '../../lib/probe/head';
import { runCli } from '../helpers/cli';
import { gaussianStore, tmpDir } from '../helpers/probe';

let dir: string;
let train: string, evalA: string, evalB: string;
beforeAll(() => {
  dir = tmpDir();
  [train, evalA, evalB] = ['train', 'a', 'b'].map((name, i) => {
    const d = path.join(dir, name);
    gaussianStore(d, { seed: 11 + i, n: 120, nSpoof: 60 });
    return d;
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SETS = ['a', 'b'];
const pct = (v: number) => (100 * v).toFixed(2);
type Json = { layers: { layer: number; features: string; eval: Record<string, { eer_asvspoof: number; eer_interval: [number, number] }> }[] };

describe('wavprobe probe --bootstrap', () => {
  let out: string;
  let j: Json;

  it('gives each row and eval set the EER interval of the bootstrap on its scores (files, the seed given)', async () => {
    out = path.join(dir, 'report');
    const args = ['probe', '--train', train, '--eval', evalA, evalB, '--layers', '1', '0,1', '--C', '10', '--calibrate-on', '0.25'];
    const r = await runCli([...args, '--bootstrap', '200', '--seed', '7', '--out', out, '--json']);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    j = JSON.parse(r.stdout);
    expect(j.layers.map((l) => [l.layer, l.features])).toEqual([
      [1, '1'],
      [1, '0,1'],
    ]);
    // The heads written per row; the interval is the bootstrap module's on that head's calibrated scores.
    const heads = ['layer_01.json', 'features_0_1.json'].map((f) => readHead(path.join(out, 'heads', f)));
    expect(heads[1].features).toEqual({ layers: [0, 1], combine: 'concat', pool: 'mean' });
    for (const [i, head] of heads.entries()) {
      for (const [k, store] of [evalA, evalB].entries()) {
        const s = scoreStore(head, store);
        const b = bootstrapIntervals(s.probs, s.labels, null, { n: 200, seed: 7, by: 'file', metrics: ['eer_asvspoof'] });
        const e = j.layers[i].eval[SETS[k]];
        expect(e.eer_interval).toEqual(b.intervals.eer_asvspoof);
        expect(e.eer_interval[0]).toBeLessThanOrEqual(e.eer_asvspoof);
        expect(e.eer_interval[1]).toBeGreaterThanOrEqual(e.eer_asvspoof);
        expect(e.eer_interval[1]).toBeGreaterThan(e.eer_interval[0]);
      }
    }
    // Deterministic for a seed, another seed draws other resamples.
    const again = await runCli([...args, '--bootstrap', '200', '--seed', '7', '--json']);
    expect(JSON.parse(again.stdout)).toEqual(j);
    const other = JSON.parse((await runCli([...args, '--bootstrap', '200', '--seed', '8', '--json'])).stdout) as Json;
    expect(other.layers[0].eval.a.eer_interval).not.toEqual(j.layers[0].eval.a.eer_interval);
  });

  it('writes the interval in table.md, table.csv (<set>_eer_lo, <set>_eer_hi) and table.tex; none for the mean', () => {
    const { header, rows } = readCsv(path.join(out, 'table.csv'));
    expect(header).toEqual([
      'layer',
      ...SETS.flatMap((n) => [`${n}_eer`, `${n}_eer_lo`, `${n}_eer_hi`, `${n}_ece`, `${n}_min_dcf`]),
      'mean_eer',
      'mean_ece',
      'mean_min_dcf',
    ]);
    expect(rows.map((x) => x.layer)).toEqual(['1', '0,1']);
    for (const [i, l] of j.layers.entries()) {
      for (const n of SETS) {
        expect([rows[i][`${n}_eer_lo`], rows[i][`${n}_eer_hi`]].map(Number)).toEqual(l.eval[n].eer_interval);
      }
    }
    const md = fs.readFileSync(path.join(out, 'table.md'), 'utf8').trim().split('\n');
    expect(md[0]).toBe(
      '| layer | a EER % [95 % CI] | a ECE % | a minDCF | b EER % [95 % CI] | b ECE % | b minDCF | mean EER % | mean ECE % | mean minDCF |',
    );
    const e = j.layers[1].eval.b;
    expect(md[3].split(' | ')[0]).toBe('| 0,1');
    expect(md[3].split(' | ')[4]).toBe(`${pct(e.eer_asvspoof)} [${pct(e.eer_interval[0])}, ${pct(e.eer_interval[1])}]`);
    const tex = fs.readFileSync(path.join(out, 'table.tex'), 'utf8');
    expect(tex).toContain(
      'layer & EER (\\%) [95\\,\\% CI] & ECE (\\%) & minDCF & EER (\\%) [95\\,\\% CI] & ECE (\\%) & minDCF & EER (\\%) & ECE (\\%) & minDCF \\\\',
    );
    expect(tex).toContain(`0,1 & ${pct(j.layers[1].eval.a.eer_asvspoof)} [${pct(j.layers[1].eval.a.eer_interval[0])}, `);
  });

  it('refuses --seed without --bootstrap, and a bad count, in one line', async () => {
    let r = await runCli(['probe', '--train', train, '--eval', evalA, '--seed', '3']);
    expect([r.exitCode, r.stderr]).toEqual([1, 'wavprobe probe: --seed goes with --bootstrap N\n']);
    r = await runCli(['probe', '--train', train, '--eval', evalA, '--bootstrap', '1']);
    expect([r.exitCode, r.stderr]).toEqual([1, 'wavprobe probe: --bootstrap takes a number of resamples (an integer ≥ 2), got 1\n']);
  });
});
