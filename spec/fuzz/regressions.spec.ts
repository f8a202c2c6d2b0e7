/**
 * Every invariant break the fuzz suite found, as a fixed input: each must now give a value or a WavprobeError,
 * in time and memory (the same checkInput as the fuzz run). Inputs are the minimal counterexamples, as hex or as
 * a small generator (a fixture with a few bytes patched, a file around a nasty JSON value).
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkRegression, Regression } from './harness';
import { fromHex, RawJson, stringifyJson, utf8 } from './mutate';
import { TARGETS } from './targets';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/** A fixture with bytes replaced at the given offsets. */
function patched(rel: string, edits: Record<number, string>): Uint8Array {
  const b = new Uint8Array(fs.readFileSync(path.join(FIXTURES, rel)));
  for (const [at, hex] of Object.entries(edits)) b.set(fromHex(hex), Number(at));
  return b;
}

/** An .npy file of format 2.0 with this header text and these data bytes. */
function npyV2(header: string, data = new Uint8Array(0)): Uint8Array {
  const h = Buffer.from(header, 'latin1');
  const pre = Buffer.alloc(12);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(pre);
  pre.writeUInt32LE(h.length, 8);
  return Buffer.concat([pre, h, data]);
}

/** A safetensors file with this header value and `dataBytes` zero bytes of data. */
function safetensors(header: unknown, dataBytes: number): Uint8Array {
  const json = Buffer.from(stringifyJson(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(dataBytes)]);
}

/** JSON nested `depth` arrays deep: JSON.parse takes it, recursion over it (JSON.stringify included) does not. */
const deep = (depth: number) => new RawJson('['.repeat(depth) + ']'.repeat(depth));
const goldenConfig = () => JSON.parse(fs.readFileSync(path.join(FIXTURES, 'golden/wav2vec2_base_tiny/config.json'), 'utf8'));

const REGRESSIONS: Regression[] = [
  // --- lib/features/npy.ts (fixed with this suite)
  {
    target: 'npy',
    note: 'format 2.0 file cut inside its 4-byte header length: RangeError from DataView (fixed in npy.ts)',
    input: () => fromHex('934e554d5059 0200 1000'),
  },
  {
    target: 'npy',
    note: "1 MB header of \"'shape': (\" repeats and no ')': the regex backtracked quadratically, 140 s (fixed: header cap + scanner)",
    input: () => npyV2("{'descr': '<f4', 'fortran_order': False, " + "'shape': (".repeat(100_000)),
  },
  {
    target: 'npy',
    note: 'a dimension of 1e23 (not a safe integer) was returned in the shape of an empty array (fixed in npy.ts)',
    input: () => npyV2("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 99999999999999999999999), }\n"),
  },
  // --- lib/weights/zip.ts
  {
    target: 'zip',
    note: "a central record's extra-field length (0xFFFF) past the end of the directory: RangeError from Buffer.readUInt16LE in readDirectory",
    input: () => patched('weights/strided_p2.bin', { 1388: 'ffff' }), // entry 0's extra length, in the central directory
  },
  {
    target: 'torch-zip',
    note: 'the same zip crash, through readTorchZip',
    input: () => patched('weights/strided_p2.bin', { 1388: 'ffff' }),
  },
  // --- lib/weights/safetensors.ts
  {
    target: 'safetensors',
    note: 'a dtype nested 100000 arrays deep: "Maximum call stack size exceeded" from JSON.stringify in the "unknown dtype" message',
    input: () => safetensors({ t: { dtype: deep(100_000), shape: [1], data_offsets: [0, 4] } }, 4),
  },
  // --- lib/weights/config.ts
  {
    target: 'model-config',
    note: 'hidden_size nested 100000 arrays deep: stack overflow in JSON.stringify of the "must be a positive integer" message (field())',
    input: () => utf8(stringifyJson({ ...goldenConfig(), hidden_size: deep(100_000) })),
  },
  {
    target: 'preprocessor-config',
    note: 'feature_size nested 100000 arrays deep: stack overflow in JSON.stringify of the "feature_size must be 1" message',
    input: () => utf8(stringifyJson({ feature_size: deep(100_000) })),
  },
  // --- lib/probe/head.ts
  {
    target: 'head',
    note: 'a version {"toString": 1}: TypeError "Cannot convert object to primitive value" building the "unsupported version" message',
    input: () => utf8('{"format":"wavprobe-head","version":{"toString":1}}'),
  },
  {
    target: 'head',
    note: 'a version nested 100000 arrays deep: stack overflow in Array.prototype.join, building the same "unsupported version" message',
    input: () => utf8(stringifyJson({ format: 'wavprobe-head', version: deep(100_000) })),
  },
];

describe('fuzz regressions: fixed inputs that once broke the invariant', () => {
  it.each(REGRESSIONS.map((r) => [`${r.target}: ${r.note}`, r] as const))('%s', async (_name, r) => {
    await checkRegression(TARGETS, r);
  });
});
