/** End to end: a reduced demo whose report numbers are recomputed from the scores it wrote, and `detect`. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readScoresCsv } from '../lib/metrics/scores';
import { computeMetrics } from '../lib/metrics/summary';
import { runCli } from './helpers/cli';
import { FIXTURES } from './helpers/fixtures';

let out: string;
beforeAll(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-demo-'));
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe('wavprobe demo (reduced)', () => {
  let report: {
    random_weights: boolean;
    best_layer: number;
    layers: { layer: number; eval: { eval: { calibrated: Record<string, number> } } }[];
    baselines: { label: string; eval: { eval: { calibrated: Record<string, number> } } }[];
  };

  it('runs from the bundled data and model and writes the report', async () => {
    const r = await runCli(['demo', '--out', path.join(out, 'demo'), '--limit', '40']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/best layer \d+: EER [\d.]+%/);
    for (const f of [
      'report.md',
      'report.json',
      'reliability.png',
      'det.png',
      'selective.png',
      'layerwise_eval.png',
      'heads/layer_00.json',
      'heads/LFCC.json',
    ]) {
      expect(fs.existsSync(path.join(out, 'demo', f))).toBe(true);
    }
    report = JSON.parse(fs.readFileSync(path.join(out, 'demo', 'report.json'), 'utf8'));
    expect(report.random_weights).toBe(true);
    expect(fs.readFileSync(path.join(out, 'demo', 'report.md'), 'utf8')).toMatch(/seeded \*random\* weights/);
    expect(report.layers.map((l) => l.layer)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('reports metrics that the written scores reproduce', () => {
    const check = (file: string, reported: Record<string, number>) => {
      const s = readScoresCsv(path.join(out, 'demo', 'scores', file));
      expect(s.ids.length).toBe(40);
      const m = computeMetrics(s.scores, s.labels) as unknown as Record<string, number>;
      for (const k of Object.keys(m)) expect(reported[k]).toBeCloseTo(m[k], 12);
    };
    for (const l of report.layers) check(`eval_layer_${String(l.layer).padStart(2, '0')}.csv`, l.eval.eval.calibrated);
    check('eval_lfcc.csv', report.baselines[0].eval.eval.calibrated);
  });

  it('resumes: a rerun reuses the extracted features and reproduces the report', async () => {
    const before = fs.readFileSync(path.join(out, 'demo', 'report.json'), 'utf8');
    const r = await runCli(['demo', '--out', path.join(out, 'demo'), '--limit', '40']);
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(out, 'demo', 'report.json'), 'utf8')).toBe(before);
  });

  it('detect: scores a WAV, a FLAC and an MP3 and reports a corrupt file with exit code ≠ 0', async () => {
    const corrupt = path.join(out, 'corrupt.wav');
    fs.writeFileSync(corrupt, Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt garbage'));
    const audio = path.join(FIXTURES, 'audio');
    const files = ['digit-8k.wav', 'digit-8k.flac', 'digit-8k.mp3'].map((f) => path.join(audio, f));
    const head = path.join(out, 'demo', 'heads', `layer_${String(report.best_layer).padStart(2, '0')}.json`);
    const r = await runCli(['detect', '--model', path.join(__dirname, '..', 'weights', 'demo'), '--head', head, '--json', ...files, corrupt]);
    expect(r.exitCode).toBe(1);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.ok)).toEqual([true, true, true, false]);
    for (const l of lines.slice(0, 3)) {
      expect(l.p_spoof).toBeGreaterThanOrEqual(0);
      expect(l.p_spoof).toBeLessThanOrEqual(1);
      expect(l.reliability).toBeCloseTo(1 - (-(l.p_spoof * Math.log(l.p_spoof)) - (1 - l.p_spoof) * Math.log(1 - l.p_spoof)) / Math.LN2, 12);
    }
    // FLAC is lossless: the same samples, the same score.
    expect(lines[1].p_spoof).toBe(lines[0].p_spoof);
    expect(lines[3].file).toBe(corrupt);
    expect(lines[3].error).toBeTruthy();
    expect(r.stderr).toMatch(/1 of 4 files could not be read/);
  });
});
