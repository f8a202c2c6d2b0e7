import * as tf from '@tensorflow/tfjs-core';
import { benchForward, forwardFlop } from '../../lib/bench/forward';
import { benchKernels } from '../../lib/bench/kernels';
import { PRESETS } from '../../lib/bench/presets';
import { ModelConfig } from '../../lib/weights/config';
import { runCli } from '../helpers/cli';

const TINY: ModelConfig = {
  ...PRESETS['wav2vec2-base'],
  hiddenSize: 32,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  intermediateSize: 64,
  convDim: Array(7).fill(16),
  numConvPosEmbeddings: 16,
  numConvPosEmbeddingGroups: 4,
};

describe('benchmarks (smoke: shapes of the output, reference checks; no timing assertions)', () => {
  it("counts 148 GFLOP for wav2vec2-base on 10 s: conv encoder 49, transformer 94 (the issue's own count)", () => {
    const c = PRESETS['wav2vec2-base'];
    expect(forwardFlop(c, 160000) / 1e9).toBeCloseTo(148, -0.3);
    const conv = forwardFlop(c, 160000, 0) / 1e9;
    expect(forwardFlop(c, 160000) / 1e9 - conv).toBeCloseTo(94, -0.3);
  });

  it('benchForward runs a tiny model and reports every field', async () => {
    const before = tf.memory().numTensors;
    const r = await benchForward({ arch: TINY, seconds: 0.5, runs: 1 });
    for (const k of ['arch', 'backend', 'threads', 'audio_s', 'median_s', 'min_s', 'rtf', 'gflop', 'gflops', 'peak_rss_mb', 'machine'])
      expect(r).toHaveProperty(k);
    expect(r).toMatchObject({ backend: 'wasm', audio_s: 0.5, layers: 2, runs: 1 });
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('benchKernels checks every kernel against the cpu backend before timing it', async () => {
    const results = await benchKernels(TINY, 8000, { runs: 1 });
    expect(results.map((r) => r.kernel)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^conv0/),
        expect.stringMatching(/^pos conv/),
        expect.stringMatching(/^attention \d+ heads/),
        expect.stringMatching(/^gelu/),
      ]),
    );
    for (const r of results) {
      expect(r.ok).toBe(true);
      expect(r.max_err).toBeLessThanOrEqual(1e-4);
      expect(r.median_ms).toEqual(expect.any(Number)); // timed (no assertion on the time itself)
      expect(r.gflops).toEqual(expect.any(Number));
    }
  });

  it('`wavprobe bench kernels --json` prints one JSON object per kernel', async () => {
    const { stdout, exitCode } = await runCli(['bench', 'kernels', '--seconds', '0.2', '--runs', '1', '--only', 'layer norm', '--json']);
    expect(exitCode).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ backend: 'wasm', ok: true });
  });

  it('bench extract compares worker counts on the same files and reports the speed-up', async () => {
    const r = await runCli(['bench', 'extract', '--model', 'lfcc', '--limit', '8', '--workers', '1,2', '--json']);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.rows.map((x: { workers: number; files: number }) => [x.workers, x.files])).toEqual([
      [1, 8],
      [2, 8],
    ]);
    expect(j.rows[0].speedup).toBe(1);
    for (const row of j.rows) expect(row.files_per_s).toBeGreaterThan(0);
  });
});
