import { spawnSync } from 'child_process';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../lib/backend';
import { UsageError } from '../../lib/errors';
import { kernels, kernelsInUse, runKernel } from '../../lib/kernels';
import { conv1d, groupedConv1d, packGroupedFilter } from '../../lib/nn/conv';
import { matMul, packWeight } from '../../lib/nn/linear';
import { kernelErrors } from './checks';

/** Every check's bound. GEMMs: error relative to Σ|a·b| (float32 sums of ≤ 2200 terms); GELU: |error| / max(1, |x|). */
const TOLERANCE = 1e-6;

describe('wavprobe wasm kernels', () => {
  beforeAll(() => useBackend('wasm'));

  it('are in use on the wasm backend', () => {
    expect(kernelsInUse()).toMatch(/^wavprobe-(relaxed|plain)$/);
  });

  it('match float64 on one thread, and leak nothing', () => {
    const before = tf.memory().numTensors;
    for (const [name, err] of Object.entries(kernelErrors())) expect({ name, ok: err <= TOLERANCE, err }).toMatchObject({ name, ok: true });
    expect(tf.memory().numTensors).toBe(before);
  });

  /** The checks in a child process with 2 threads (threads are per process), on the given build of the kernels. */
  const childChecks = (variant: 'relaxed' | 'plain') => {
    const child = path.join(__dirname, 'kernels-child.ts');
    const env = { ...process.env, WAVPROBE_KERNELS: variant === 'plain' ? 'plain' : '' };
    const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), child], { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { threads: number; variant: string; errors: Record<string, number>; leaked: number };
    expect([out.threads, out.variant]).toEqual([2, variant]);
    for (const [name, err] of Object.entries(out.errors)) expect({ name, ok: err <= TOLERANCE, err }).toMatchObject({ name, ok: true });
    expect(out.leaked).toBe(0);
  };

  it('match float64 with 2 threads (worker slices of every job)', () => childChecks(kernels()!.variant));

  // The build a runtime without relaxed SIMD loads: its own micro-kernel (4-row tiles, multiply then add).
  it('match float64 in the build without relaxed SIMD', () => childChecks('plain'));

  it('matMul and conv1d called outside a tidy leave only their result', () => {
    const [a, b, x, f] = [tf.ones([3, 4]), tf.ones([4, 5]), tf.ones([1, 9, 2]), tf.ones([3, 2, 4])];
    const before = tf.memory().numTensors;
    const outs = [matMul(a, b), matMul(a, b, undefined, { gelu: true }), conv1d(x as tf.Tensor3D, f, 2)];
    expect(tf.memory().numTensors).toBe(before + outs.length);
    tf.dispose([...outs, a, b, x, f]);
  });

  it('a packed weight is read only by the kernels: another backend gets a clear error, not wrong numbers', async () => {
    const w = packWeight(
      tf.tensor2d(
        Array.from({ length: 16 }, (_, i) => i),
        [2, 8],
      ),
    );
    await useBackend('cpu');
    try {
      expect(() => matMul(tf.ones([1, 2]), w)).toThrow(/laid out for wavprobe's wasm kernels/);
    } finally {
      await useBackend('wasm');
      w.dispose();
    }
  });

  it("a positional conv's spectra are read only by the kernels, and only with their own groups", async () => {
    const spectra = packGroupedFilter(tf.ones([16, 8, 16])); // 16 taps, 2 groups of 8: through the FFT
    const x = tf.ones([1, 20, 16]) as tf.Tensor3D;
    try {
      expect(spectra.shape).toEqual([17, 2, 8, 16]); // 32-point blocks: bins 0..16, re and im
      expect(() => groupedConv1d(x, spectra, 4, 8)).toThrow(/a filter of 2 groups run as 4/);
      expect(() => groupedConv1d(tf.ones([1, 20, 8]) as tf.Tensor3D, spectra, 2, 8)).toThrow(UsageError);
      await useBackend('cpu');
      expect(() => groupedConv1d(x, spectra, 2, 8)).toThrow(/laid out for wavprobe's wasm kernels/);
    } finally {
      await useBackend('wasm');
      tf.dispose([spectra, x]);
    }
  });

  it('rejects rows that would read past the input', () => {
    const k = kernels()!;
    expect(k).toBeDefined();
    tf.tidy(() => {
      const a = tf.zeros([10, 4]);
      const b = tf.zeros([8, 3]);
      // 5 rows of 8 with stride 8 fill the 40 values exactly; a sixth row, or a second batch row, would not fit.
      expect(tf.sum(runKernel('WavprobeGemm', { a, b }, { batch: 1, rows: 5, rowStride: 8, batchStride: 0 })).dataSync()[0]).toBe(0);
      expect(() => runKernel('WavprobeGemm', { a, b }, { batch: 1, rows: 6, rowStride: 8, batchStride: 0 })).toThrow(UsageError);
      expect(() => runKernel('WavprobeGemm', { a, b }, { batch: 2, rows: 5, rowStride: 8, batchStride: 4 })).toThrow(/overrun an input of 40 values/);
    });
  });
});
