/** `wavprobe probe`: one head per layer, metrics per layer per eval store, the --json shape and the report files. */
import * as fs from 'fs';
import * as path from 'path';
import { computeMetrics } from '../../lib/metrics/summary';
import { scoreStore, trainHead } from '../../lib/probe/head';
import { runCli } from '../helpers/cli';
import { gaussianStore, tmpDir } from '../helpers/probe';

let dir: string;
const store = (name: string, seed: number) => {
  const d = path.join(dir, name);
  gaussianStore(d, { seed, n: 200, nSpoof: 100 });
  return d;
};
let train: string, dev: string, evalA: string, evalB: string;
beforeAll(() => {
  dir = tmpDir();
  train = store('train', 1);
  dev = store('dev', 2);
  evalA = store('eval-a', 3);
  evalB = store('eval-b', 4);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('wavprobe probe', () => {
  it('--json: {"layers": [{"layer", "eval": {store: metrics}}]}, each the metrics of that layer\'s own head', async () => {
    const r = await runCli(['probe', '--train', train, '--eval', evalA, evalB, '--calibrate-on', dev, '--C', '10', '--json']);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.layers.map((l: { layer: number }) => l.layer)).toEqual([0, 1]);
    for (const l of j.layers) {
      expect(Object.keys(l.eval)).toEqual(['eval-a', 'eval-b']);
      // An independent path: train this layer's head through the library and score the store.
      const head = trainHead(train, l.layer, { C: 10, calibrateOn: dev });
      const s = scoreStore(head, evalB);
      const m = computeMetrics(s.probs, s.labels) as unknown as Record<string, number>;
      for (const k of ['eer_asvspoof', 'eer_roc_interpolated', 'auc', 'ece_15', 'brier', 'nll', 'accuracy_at_0.5']) {
        expect(l.eval['eval-b'][k]).toBeCloseTo(m[k], 10);
      }
    }
  });

  it('--out writes report.md, report.json, a head per layer and the layer-wise chart per eval store', async () => {
    const out = path.join(dir, 'report');
    const r = await runCli(['probe', '--train', train, '--eval', evalA, '--out', out]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\| layer \| eval-a EER % \|/);
    for (const f of ['report.md', 'report.json', 'heads/layer_00.json', 'heads/layer_01.json', 'layerwise_eval-a.svg', 'layerwise_eval-a.png']) {
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    }
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.layers[1].eval['eval-a'].calibrated.eer_asvspoof).toBeLessThan(0.5);
  });

  it('an eval store of another dimension is a one-line error naming it', async () => {
    const other = path.join(dir, 'wide');
    gaussianStore(other, { d: 9 });
    const r = await runCli(['probe', '--train', train, '--eval', other]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^wavprobe probe: ${other}/layer_00.npy: features have 9 dimensions, the head expects 6\\n$`));
  });
});
