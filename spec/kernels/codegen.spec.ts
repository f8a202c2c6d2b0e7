/**
 * The micro-kernel's loop, as V8 compiles it, keeps its tile in registers. Its 6 × 8 tile with relaxed SIMD
 * (kernels.c) needs 12 accumulators, 2 B vectors and 1 broadcast: 15 of x64 V8's 15 allocatable xmm registers, so
 * an innocent change around the loop can make TurboFan hoist the broadcasts and spill, and the GEMMs run 2× slower
 * with the same results. This reads the machine code (--print-wasm-code) of every optimised loop that multiplies
 * broadcast A values into B and counts its stack accesses (skipped where V8 prints no optimised code).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Each optimised FMA loop over broadcast loads: its function, its FMAs and its stack accesses. */
function microKernelLoops(): { fn: string; fmas: number; stack: number }[] {
  const child = path.join(__dirname, 'codegen-child.ts');
  // Into a file: V8 prints with C stdio, which loses output to the non-blocking pipe Node makes of a child's stdout.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-codegen-'));
  let text: string;
  try {
    const out = fs.openSync(path.join(dir, 'code.txt'), 'w');
    const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), child], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
    fs.closeSync(out);
    if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
    text = fs.readFileSync(path.join(dir, 'code.txt'), 'utf8');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const loops: { fn: string; fmas: number; stack: number }[] = [];
  for (const code of text.split('--- WebAssembly code ---').slice(1)) {
    if (!/compiler: TurboFan/.test(code)) continue;
    const fn = /name: (\S+)/.exec(code)?.[1] ?? '?';
    const lines = code.split('\n');
    // A loop body: from its stack-guard check (V8 puts one in each loop; its own jna follows it) to the next jump of
    // any kind, which ends the straight line of code that the loop runs (past it lies other code).
    for (let i = 0; i < lines.length; i++) {
      if (!/cmpq rsp,\[/.test(lines[i])) continue;
      let end = i + 2;
      while (end < lines.length && !/\sj[a-z]+\s/.test(lines[end])) end++;
      const body = lines.slice(i, end + 1);
      const fmas = body.filter((l) => /vfmadd\d+ps/.test(l)).length;
      if (fmas && body.some((l) => /vbroadcastss xmm\d+,\[/.test(l)))
        loops.push({ fn, fmas, stack: body.filter((l) => /\[rbp[-+]0x[0-9a-f]+\]/.test(l)).length });
      i = end;
    }
  }
  return loops;
}

const loops = microKernelLoops();
// A V8 that prints no optimised x64 wasm code leaves nothing to read: the check is skipped (jest lists it as such).
const itWithCode = loops.length ? it : it.skip;

itWithCode("the micro-kernels' loops run from registers (no stack spills in V8's optimised code)", () => {
  expect(loops.filter((l) => l.fmas === 12).length).toBeGreaterThanOrEqual(3); // the 6 × 8 tile's: kernel, kernel_pair, kernel_pv
  for (const l of loops) expect(l).toMatchObject({ stack: 0 });
});
