/**
 * The worker pool on its own (no tfjs): jobs split over the threads, a slice that throws, a worker that hangs or
 * dies; and the kernel table against the real module's exports.
 */
import { KERNEL_BINARIES } from '../../lib/kernels/binaries';
import { KERNEL_EXPORTS, POOL_JOBS } from '../../lib/kernels';
import { PoolJob, WorkerPool } from '../../lib/kernels/pool';

/**
 * A module on a shared memory of one page, written out by hand: fill(dst, value, lo, hi) stores the float value at
 * dst[lo, hi); fail(lo, hi) traps and spin(lo, hi) loops forever, both only on the slice that starts at 0 (worker 0's).
 */
function testModule(): WebAssembly.Module {
  const vec = (items: number[][]) => [items.length, ...items.flat()]; // every count and size here is < 128: one LEB128 byte
  const name = (s: string) => [s.length, ...Buffer.from(s)];
  const section = (id: number, items: number[][]) => [id, vec(items).length, ...vec(items)];
  const body = (code: number[]) => [code.length + 2, 0, ...code, 0x0b]; // no locals, code, end
  const [i32, f32] = [0x7f, 0x7d];
  const [get, set, constI32, block, loop, brIf, br, end] = [0x20, 0x21, 0x41, [0x02, 0x40], [0x03, 0x40], 0x0d, 0x0c, 0x0b];
  const onWorker0 = [get, 0, 0x45, 0x04, 0x40]; // if (lo == 0) {
  const fill = [
    ...block,
    ...loop,
    ...[get, 2, get, 3, 0x4e, brIf, 1], // lo >= hi: done
    ...[get, 0, get, 2, constI32, 2, 0x74, 0x6a, get, 1, 0x38, 2, 0], // f32.store(dst + 4·lo, value)
    ...[get, 2, constI32, 1, 0x6a, set, 2, br, 0], // lo++
    end,
    end,
  ];
  const fail = [...onWorker0, 0x00, end]; // unreachable
  const spin = [...onWorker0, ...loop, br, 0, end, end];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [
      [0x60, 4, i32, f32, i32, i32, 0],
      [0x60, 2, i32, i32, 0],
    ]),
    ...section(2, [[...name('env'), ...name('memory'), 0x02, 0x03, 1, 1]]), // shared, 1 page
    ...section(3, [[0], [1], [1]]),
    ...section(7, [
      [...name('fill'), 0, 0],
      [...name('fail'), 0, 1],
      [...name('spin'), 0, 2],
    ]),
    ...section(10, [body(fill), body(fail), body(spin)]),
  ];
  return new WebAssembly.Module(new Uint8Array(bytes));
}

const JOBS: PoolJob[] = [
  { name: 'fill', floats: [false, true], perThread: false },
  { name: 'fail', floats: [], perThread: false },
  { name: 'spin', floats: [], perThread: false },
];
const DST = 4096; // past the control block, which starts at 0

describe('kernel worker pool', () => {
  const module = testModule();
  const pools: WorkerPool[] = [];
  const start = (size: number, timeoutMs?: number) => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const pool = WorkerPool.start(module, memory, { _malloc: () => 0 }, size, JOBS, { timeoutMs })!;
    expect(pool).toBeDefined();
    pools.push(pool);
    const k = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...a: number[]) => void>;
    const own =
      (job: string, ...args: number[]) =>
      (lo: number, hi: number) =>
        k[job](...args, lo, hi);
    const values = (n: number) => Array.from(new Float32Array(memory.buffer, DST, n));
    return { pool, own, values };
  };
  afterAll(() => Promise.all(pools.flatMap((p) => p['workers'].map((w) => w.terminate()))));

  it('splits a job over the workers and this thread, float arguments included', () => {
    const { pool, own, values } = start(3);
    const mine: number[][] = [];
    pool.run('fill', [DST, 2.5], 1000, 1, (lo, hi) => (mine.push([lo, hi]), own('fill', DST, 2.5)(lo, hi)));
    expect(mine).toEqual([[750, 1000]]);
    expect(values(1001)).toEqual([...Array(1000).fill(2.5), 0]);
  });

  it('a slice that throws: an error naming the kernel, the thread and why; the pool runs the next job', () => {
    const { pool, own, values } = start(3);
    for (let round = 0; round < 2; round++) {
      expect(() => pool.run('fail', [], 8, 1, own('fail'))).toThrow(
        'wavprobe kernel fail failed: worker 0 failed on [0, 2): RuntimeError: unreachable',
      );
      pool.run('fill', [DST, round + 1], 8, 1, own('fill', DST, round + 1)); // no stale failure from the job before
      expect(values(8)).toEqual(Array(8).fill(round + 1));
    }
    const boom = () => {
      throw new Error('boom');
    };
    expect(() => pool.run('fill', [DST, 3], 8, 1, boom)).toThrow('wavprobe kernel fill failed: the main thread failed on [6, 8): Error: boom');
    expect(values(8)).toEqual([3, 3, 3, 3, 3, 3, 2, 2]); // the workers finished their slices first
    expect(pool.running).toBe(true);
  });

  it('a worker stuck in a job: an error naming it within the timeout, then the pool stops', () => {
    const { pool, own } = start(2, 300);
    const t0 = Date.now();
    expect(() => pool.run('spin', [], 6, 1, own('spin'))).toThrow(
      'wavprobe kernel spin: worker 0 did not finish its slice [0, 2) of 6 (dead or stuck); the worker threads are stopped and the kernels continue on the main thread alone',
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(pool.running).toBe(false);
    expect(() => pool.run('fill', [DST, 1], 6, 1, own('fill', DST, 1))).toThrow(
      /the worker pool was stopped \(wavprobe kernel spin: worker 0 did not finish/,
    );
  });

  it('a worker that died between jobs: the next job fails at once, naming it', async () => {
    const { pool, own } = start(2);
    await pool['workers'][1].terminate();
    expect(() => pool.run('fill', [DST, 1], 6, 1, own('fill', DST, 1))).toThrow(
      /^wavprobe kernel fill: worker 1 exited \(code 1\); the worker threads are stopped/,
    );
    expect(pool.running).toBe(false);
  });

  it('rejects a job it does not know, or the wrong number of arguments', () => {
    const { pool, own } = start(1);
    expect(() => pool.run('fill', [DST], 4, 1, own('fill', DST))).toThrow('the worker pool has no job fill of 1 arguments');
    expect(() => pool.run('nope', [], 4, 1, own('fail'))).toThrow('the worker pool has no job nope of 0 arguments');
  });
});

describe('kernel table', () => {
  const module = new WebAssembly.Module(Buffer.from(KERNEL_BINARIES['plain-shared'], 'base64'));
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...a: number[]) => number>;

  it("describes every export of kernels.c with its argument count (a kernel's [lo, hi) and region included)", () => {
    const described = Object.entries(KERNEL_EXPORTS).map(([name, spec]) => {
      const extra = 'slice' in spec ? 2 + ('perThread' in spec ? 1 : 0) : 0;
      return [name, Object.keys(spec.args).length + extra];
    });
    const exported = Object.entries(k)
      .filter(([, f]) => typeof f === 'function')
      .map(([name, f]) => [name, f.length]);
    expect(Object.fromEntries(described)).toEqual(Object.fromEntries(exported));
  });

  it('a real kernel failing in a worker names the kernel and the reason', () => {
    const pool = WorkerPool.start(module, memory, { _malloc: () => 1 << 20 }, 1, POOL_JOBS)!;
    try {
      // x = 2³² − 32: the worker's values [0, 8) lie past the end of memory, this thread's [8, 16) wrap to 0.
      const [x, y] = [-32, 2 << 20];
      pool.run('gelu_range', [x, y], 16, 4, (lo, hi) => k.gelu_range(x, y, lo, hi));
      throw new Error('no failure');
    } catch (e) {
      expect(String(e)).toBe('Error: wavprobe kernel gelu_range failed: worker 0 failed on [0, 8): RuntimeError: memory access out of bounds');
    } finally {
      void pool['workers'][0].terminate();
    }
  });
});
