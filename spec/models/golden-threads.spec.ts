import { spawnSync } from 'child_process';
import * as path from 'path';
import type { GoldenResults } from '../helpers/golden';

// Threaded wasm (lib/wasm-threads.ts) runs the same kernels split over a pthread pool: the golden outputs must hold.
describe('golden fixtures on wasm with 2 threads', () => {
  let out: { threads: number; results: GoldenResults };
  beforeAll(() => {
    const child = path.join(__dirname, 'golden-threads-child.ts');
    const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), child], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
    if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
    out = JSON.parse(r.stdout);
  });

  it('really runs 2 threads', () => expect(out.threads).toBe(2));

  it('every model × case matches HF within 1e-4 and leaks nothing', () => {
    const cases = Object.entries(out.results.cases);
    expect(cases.length).toBeGreaterThan(0);
    for (const [, r] of cases) {
      expect(r.outputs).toEqual(r.expected);
      expect(r.mismatches).toEqual({});
      expect(r.leakedTensors).toBe(0);
    }
    expect(out.results.tensorsAfterDispose).toBe(0);
  });
});
