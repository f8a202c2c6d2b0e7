/**
 * clang 14 emits f32x4.relaxed_madd under its pre-standard encoding (f32x4.fma, 0xfd 0xaf 0x01, operands c + a·b);
 * V8 implements the standard one (0xfd 0x85 0x02, a·b + c), which kernels.c's MADD is written for. Rewrites the
 * opcode inside the code section and checks the count against llvm-objdump's.
 *
 *   npx tsx tools/relaxed-madd.ts in.wasm out.wasm
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';

const [input, output] = process.argv.slice(2);
const bytes = fs.readFileSync(input);
const expected = execFileSync('llvm-objdump', ['-d', input], { encoding: 'utf8', maxBuffer: 1 << 28 })
  .split('\n')
  .filter((l) => l.includes('f32x4.fma')).length;

function leb128(pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[pos++];
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, pos];
}

let patched = 0;
for (let pos = 8; pos < bytes.length;) {
  const id = bytes[pos];
  const [size, start] = leb128(pos + 1);
  if (id === 10) {
    for (let i = start; i + 2 < start + size; i++) {
      if (bytes[i] === 0xfd && bytes[i + 1] === 0xaf && bytes[i + 2] === 0x01) {
        bytes[i + 1] = 0x85;
        bytes[i + 2] = 0x02;
        patched++;
        i += 2;
      }
    }
  }
  pos = start + size;
}
if (patched !== expected) throw new Error(`${input}: rewrote ${patched} f32x4.fma opcodes, llvm-objdump lists ${expected}`);
fs.writeFileSync(output, bytes);
console.log(`${output}: ${patched} f32x4.relaxed_madd`);
