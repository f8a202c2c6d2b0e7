/**
 * Child process for codegen.spec.ts, printing V8's machine code: the relaxed build's GEMM routes once each on small
 * shapes (every pointer a byte offset in this memory), so V8's optimising tier compiles their micro-kernels.
 */
import * as v8 from 'v8';
import { KERNEL_BINARIES } from '../../lib/kernels/binaries';

// Set here rather than on the command line, where a V8 without one of them would refuse to start: print the optimised
// code of every function, compiled up front on this thread (printed from several, the listings interleave).
for (const flag of [
  '--experimental-wasm-relaxed-simd',
  '--no-wasm-dynamic-tiering',
  '--no-wasm-lazy-compilation',
  '--wasm-num-compilation-tasks=0',
  '--print-wasm-code',
])
  v8.setFlagsFromString(flag);

const memory = new WebAssembly.Memory({ initial: 1024 }); // 64 MiB
const module = new WebAssembly.Module(Buffer.from(KERNEL_BINARIES['relaxed-local'], 'base64'));
const k = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...args: number[]) => number>;
const MB = 2 ** 20;
k.gemm_cols(1 * MB, 16, 2 * MB, 3 * MB, 0, 4 * MB, 12, 16, 16, 0, 0, 2, 5 * MB); // panels (kernel)
k.strassen_pack_cols(2 * MB, 6 * MB, 512, 256, 0, 16);
k.gemm_strassen_cols(1 * MB, 512, 6 * MB, 0, 4 * MB, 64, 512, 256, 0, 0, k.strassen_tiles(64), 7 * MB); // Strassen (kernel_pair)
k.conv3s2_cols(1 * MB, 8, 2 * MB, 3 * MB, 0, 4 * MB, 10, 8, 0, 0, 1, 8 * MB); // the conv's shared products (kernel)
k.attention_heads(1 * MB, 2 * MB, 3 * MB, 4 * MB, 0, 0, 0, 16, 32, 2, 0.1, 0, 2, 8 * MB); // scores (kernel), P·V (kernel_pv)
