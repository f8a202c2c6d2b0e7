/**
 * The micro-kernel's loop, as V8 compiles it, keeps its tile in registers. Its 6 × 8 tile with relaxed SIMD
 * (kernels.c) needs 12 accumulators, 2 B vectors and 1 broadcast: 15 of x64 V8's 15 allocatable xmm registers, so
 * an innocent change around the loop can make TurboFan hoist the broadcasts and spill, and the GEMMs run 2× slower
 * with the same results. This reads the machine code (--print-wasm-code) of every optimised loop that multiplies
 * broadcast A values into B and counts its stack accesses. Where V8 prints no optimised code, it says so and passes.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Each optimised FMA loop over broadcast loads: its function and how many stack slots it touches per iteration. */
function microKernelLoops(): { fn: string; fmas: number; stack: number }[] {
  const child = path.join(__dirname, 'codegen-child.ts');
  const flags = ['--experimental-wasm-relaxed-simd', '--no-wasm-dynamic-tiering', '--no-wasm-lazy-compilation', '--wasm-num-compilation-tasks=0', '--print-wasm-code'];
  // Into a file: V8 prints with C stdio, which loses output to the non-blocking pipe Node makes of a child's stdout.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-codegen-'));
  let text: string;
  try {
    const out = fs.openSync(path.join(dir, 'code.txt'), 'w');
    const r = spawnSync(process.execPath, [...flags, '--require', require.resolve('tsx/cjs'), child], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
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
    // A loop body: from its stack-guard check (V8 puts one in each loop) to the next conditional jump.
    for (let i = 0; i < lines.length; i++) {
      if (!/cmpq rsp,\[/.test(lines[i])) continue;
      let end = i + 2;
      while (end < lines.length && !/\sj(nz|ne|c|nc|l|g|le|ge|a|b)\s/.test(lines[end])) end++;
      const body = lines.slice(i, end + 1);
      const fmas = body.filter((l) => /vfmadd\d+ps/.test(l)).length;
      if (fmas && body.some((l) => /vbroadcastss xmm\d+,\[/.test(l)))
        loops.push({ fn, fmas, stack: body.filter((l) => /\[rbp[-+]0x[0-9a-f]+\]/.test(l)).length });
      i = end;
    }
  }
  return loops;
}

it("the micro-kernels' loops run from registers (no stack spills in V8's optimised code)", () => {
  const loops = microKernelLoops();
  if (!loops.length) {
    console.warn('codegen.spec: this V8 prints no optimised wasm code (--print-wasm-code); the check did not run');
    return;
  }
  expect(loops.filter((l) => l.fmas === 12).length).toBeGreaterThanOrEqual(2); // the 6 × 8 tile's: kernel and kernel_pair
  for (const l of loops) expect(l).toMatchObject({ stack: 0 });
});
