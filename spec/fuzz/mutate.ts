/**
 * Mutations of valid seed files, as fast-check arbitraries of plain descriptions (so a counterexample prints as
 * `{kind: 'field', index: 3, value: 4294967295n}` and shrinks toward small offsets and few mutations).
 *
 * Byte level: bit flips, byte sets, integers at any offset set to extremes, truncation, insertion and deletion,
 * chunk duplication, a slice repeated up to thousands of times (deep nesting, huge counts), dictionary tokens
 * (magic numbers, chunk ids, opcodes) inserted or overwritten.
 * Structure aware, where the seed says where its structure is: its length/count fields set to extremes or
 * nudged by ±1…; for JSON seeds, values replaced by nasty ones (huge, negative, NaN-as-string, 1e999, deep
 * nesting, wrong types), keys deleted or renamed, values wrapped; for text seeds, words replaced.
 */
import fc from 'fast-check';

/** A length/count/offset field of a seed: `width` bytes at `at`, little-endian unless `be`. */
export interface Field {
  at: number;
  width: 1 | 2 | 3 | 4 | 8;
  be?: boolean;
  /** What it is, for the reader of a counterexample. */
  name?: string;
}

/** A valid input and what is known of its structure. */
export interface Seed {
  name: string;
  bytes: Uint8Array;
  fields?: Field[];
  /** JSON seeds: the parsed value, and how to turn a mutated value back into the file's bytes. */
  json?: { value: unknown; encode: (v: unknown) => Uint8Array };
  /** Text seeds (CSV, protocol files, the .npy header): the text, and how to turn a mutated text into bytes. */
  text?: { value: string; encode: (s: string) => Uint8Array };
  /** Applied last to the mutated bytes (e.g. put a mutated data.pkl back into a zip). */
  wrap?: (b: Uint8Array) => Uint8Array;
}

/** Values a mutated integer field takes: the edges of every width, and the usual suspects. */
export const EXTREMES: bigint[] = [
  0n,
  1n,
  2n,
  0x7fn,
  0x80n,
  0xffn,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x7fffffn,
  0xffffffn,
  0x7fffffffn,
  0x80000000n,
  0xfffffffen,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n + 1n,
  0x7fffffffffffffffn,
  0xffffffffffffffffn,
];

export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'int'; at: number; width: 1 | 2 | 4 | 8; be: boolean; value: bigint }
  | { kind: 'field'; index: number; value: bigint }
  | { kind: 'nudge'; index: number; delta: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'dup'; from: number; len: number; to: number }
  | { kind: 'repeat'; from: number; len: number; times: number }
  | { kind: 'token'; at: number; token: number; overwrite: boolean };

export type JsonMutation =
  | { kind: 'set'; path: number; value: unknown }
  | { kind: 'delete'; path: number }
  | { kind: 'rename'; path: number; key: string }
  | { kind: 'wrap'; path: number; inArray: boolean };

export type TextMutation = { kind: 'word'; index: number; value: string };

/** The largest input a mutation may grow a seed to (repeat / insert). */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** JSON text that JSON.stringify cannot produce (1e999, deep nesting, long arrays), spliced in verbatim. */
export class RawJson {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text.length > 60 ? `raw(${this.text.slice(0, 30)}…${this.text.length} chars)` : `raw(${this.text})`;
  }
}

const deep = (open: string, close: string, n: number) => new RawJson(open.repeat(n) + close.repeat(n));

/** Values a JSON field is set to. */
export const NASTY_JSON: unknown[] = [
  0,
  -1,
  -0,
  1,
  0.5,
  -0.5,
  1e308,
  -1e308,
  1e300,
  1e100,
  5e-324,
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  1e8,
  1e15,
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '',
  '0',
  '12',
  'gelu',
  '__proto__',
  null,
  true,
  false,
  [],
  {},
  [0],
  [-1],
  [1e308],
  ['NaN'],
  [null],
  { a: 1 },
  new RawJson('1e999'),
  new RawJson('-1e999'),
  new RawJson('1e-400'),
  new RawJson('123456789012345678901234567890'),
  deep('[', ']', 100_000),
  deep('{"a":', '}', 50_000),
  new RawJson(`[${new Array(200_000).fill('0').join(',')}]`),
  new RawJson(JSON.stringify('x'.repeat(1_000_000))),
];

const NASTY_KEYS = ['', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'x'.repeat(10_000), '\u0000', 'a/b', '../x'];

/** Strings a word of a text seed is replaced by. */
export const NASTY_WORDS = [
  '',
  ' ',
  '"',
  '""',
  'a"b',
  '"a',
  ',',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '\u0000',
  '\ufeff',
  '\ud800',
  '\u00e9',
  '-',
  '0',
  '1',
  '-1',
  '1e999',
  'NaN',
  'Infinity',
  '9007199254740993',
  '99999999999999999999999',
  '0x7fffffff',
  'True',
  'False',
  '()',
  '(',
  ')',
  "'",
  '__proto__',
  'constructor',
  'toString',
  'bonafide',
  'spoof',
  'bona-fide',
  'SPOOF',
  'fake',
  'real',
  'eval',
  '../../../etc/passwd',
  '/abs/path.wav',
  'C:\\x.wav',
  'x'.repeat(100_000),
  ',,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
  '"'.repeat(1001),
  'a,'.repeat(50_000),
  '\n'.repeat(50_000),
];

const offset = fc.nat({ max: 1 << 24 });

/** One byte-level mutation; `dictionary` holds the target's tokens (magic numbers, opcodes, chunk ids). */
export function byteMutation(dictionary: Uint8Array[], fields: boolean): fc.Arbitrary<ByteMutation> {
  const arbs: fc.Arbitrary<ByteMutation>[] = [
    fc.record({ kind: fc.constant('flip' as const), at: offset, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('byte' as const), at: offset, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      kind: fc.constant('int' as const),
      at: offset,
      width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      be: fc.boolean(),
      value: fc.constantFrom(...EXTREMES),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: offset }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: offset,
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at: offset, len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('dup' as const), from: offset, len: fc.integer({ min: 1, max: 256 }), to: offset }),
    fc.record({
      kind: fc.constant('repeat' as const),
      from: offset,
      len: fc.integer({ min: 1, max: 16 }),
      times: fc.constantFrom(2, 3, 10, 100, 1000, 10_000, 100_000, 300_000),
    }),
  ];
  if (fields) {
    // twice: a seed's declared fields are where most parsers go wrong
    const field = fc.record({ kind: fc.constant('field' as const), index: fc.nat(), value: fc.constantFrom(...EXTREMES) });
    const nudge = fc.record({
      kind: fc.constant('nudge' as const),
      index: fc.nat(),
      delta: fc.constantFrom(-65536, -4096, -16, -8, -2, -1, 1, 2, 8, 16, 4096, 65536),
    });
    arbs.push(field, field, nudge);
  }
  if (dictionary.length) {
    arbs.push(fc.record({ kind: fc.constant('token' as const), at: offset, token: fc.nat({ max: dictionary.length - 1 }), overwrite: fc.boolean() }));
  }
  return fc.oneof(...arbs);
}

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_JSON) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer({ min: -100, max: 100 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), path: fc.nat(), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const), path: fc.nat(), key: fc.constantFrom(...NASTY_KEYS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap' as const), path: fc.nat(), inArray: fc.boolean() }) },
);

export const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  kind: fc.constant('word' as const),
  index: fc.nat(),
  value: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NASTY_WORDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
});

// ---------------------------------------------------------------------------------------------- applying them

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function writeInt(b: Uint8Array, at: number, width: number, value: bigint, be: boolean): void {
  const v = value & ((1n << BigInt(8 * width)) - 1n);
  for (let i = 0; i < width && at + i < b.length; i++) {
    const byte = Number((v >> BigInt(8 * i)) & 0xffn);
    b[be ? at + width - 1 - i : at + i] = byte;
  }
}

function readInt(b: Uint8Array, at: number, width: number, be: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < width; i++) v |= BigInt(b[be ? at + width - 1 - i : at + i] ?? 0) << BigInt(8 * i);
  return v;
}

/** Applies one byte mutation (offsets are taken modulo the current length, so any offset means something). */
export function applyByteMutation(input: Uint8Array, m: ByteMutation, fields: Field[], dictionary: Uint8Array[]): Uint8Array {
  const n = input.length;
  const pos = (at: number, end = n) => (end > 0 ? at % end : 0);
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return input;
      const b = input.slice();
      b[pos(m.at)] ^= 1 << m.bit;
      return b;
    }
    case 'byte': {
      if (n === 0) return input;
      const b = input.slice();
      b[pos(m.at)] = m.value;
      return b;
    }
    case 'int': {
      if (n === 0) return input;
      const b = input.slice();
      writeInt(b, pos(m.at), m.width, m.value, m.be);
      return b;
    }
    case 'field':
    case 'nudge': {
      const f = fields.length ? fields[m.index % fields.length] : undefined;
      if (!f || f.at + f.width > n) return input;
      const b = input.slice();
      const max = 1n << BigInt(8 * f.width);
      const value = m.kind === 'field' ? m.value : (((readInt(b, f.at, f.width, !!f.be) + BigInt(m.delta)) % max) + max) % max;
      writeInt(b, f.at, f.width, value, !!f.be);
      return b;
    }
    case 'truncate':
      return input.slice(0, pos(m.at));
    case 'insert': {
      const at = pos(m.at, n + 1);
      return concat(input.subarray(0, at), Uint8Array.from(m.bytes), input.subarray(at));
    }
    case 'delete': {
      const at = pos(m.at);
      return concat(input.subarray(0, at), input.subarray(at + m.len));
    }
    case 'dup': {
      if (n === 0) return input;
      const from = pos(m.from);
      const chunk = input.subarray(from, from + m.len);
      const to = pos(m.to, n + 1);
      return concat(input.subarray(0, to), chunk, input.subarray(to));
    }
    case 'repeat': {
      if (n === 0) return input;
      const from = pos(m.from);
      const chunk = input.subarray(from, from + m.len);
      const times = Math.min(m.times, Math.floor((MAX_INPUT_BYTES - n) / chunk.length));
      if (times < 1) return input;
      const rep = new Uint8Array(chunk.length * times);
      for (let i = 0; i < times; i++) rep.set(chunk, i * chunk.length);
      return concat(input.subarray(0, from), rep, input.subarray(from));
    }
    case 'token': {
      const tok = dictionary[m.token % dictionary.length];
      const at = pos(m.at, n + 1);
      return concat(input.subarray(0, at), tok, input.subarray(m.overwrite ? at + tok.length : at));
    }
  }
}

/** Every value's path in a JSON tree, root first, depth first (object keys and array indices). */
function jsonPaths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (out.length > 10_000) return out;
  if (Array.isArray(v)) v.forEach((x, i) => jsonPaths(x, [...prefix, i], out));
  else if (v && typeof v === 'object' && !(v instanceof RawJson))
    for (const k of Object.keys(v)) jsonPaths((v as Record<string, unknown>)[k], [...prefix, k], out);
  return out;
}

/** Applies one JSON mutation to a (cloned) tree; returns the new tree (the root itself may be replaced). */
export function applyJsonMutation(root: unknown, m: JsonMutation): unknown {
  const paths = jsonPaths(root);
  const p = paths[m.path % paths.length];
  const replace = (fn: (old: unknown) => unknown): unknown => {
    if (p.length === 0) return fn(root);
    let parent = root as Record<string | number, unknown>;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = p[p.length - 1];
    const value = fn(parent[key]);
    if (Array.isArray(parent)) parent[key as number] = value;
    else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true }); // even for "__proto__"
    return root;
  };
  switch (m.kind) {
    case 'set':
      return replace(() => cloneJson(m.value)); // a copy: later mutations must not change the shared constants
    case 'wrap':
      return replace((old) => (m.inArray ? [old] : { value: old }));
    case 'delete':
    case 'rename': {
      if (p.length === 0) return m.kind === 'delete' ? undefined : root;
      let parent = root as Record<string | number, unknown>;
      for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      const key = p[p.length - 1];
      if (Array.isArray(parent)) {
        if (m.kind === 'delete') parent.splice(key as number, 1);
        return root;
      }
      const old = parent[key];
      delete parent[key];
      if (m.kind === 'rename') Object.defineProperty(parent, m.key, { value: old, enumerable: true, writable: true, configurable: true });
      return root;
    }
  }
}

/** JSON.stringify, with RawJson values spliced in verbatim and `undefined` (a deleted root) as empty text. */
export function stringifyJson(v: unknown): string {
  if (v === undefined) return '';
  const raws: string[] = [];
  const text = JSON.stringify(v, (_k, x) => {
    if (x instanceof RawJson) {
      raws.push(x.text);
      return `\u0000RAW${raws.length - 1}\u0000`;
    }
    return x;
  });
  return text.replace(/"\\u0000RAW(\d+)\\u0000"/g, (_m, i) => raws[Number(i)]);
}

/** Structured clone for JSON trees that may hold RawJson leaves (and own `__proto__` keys). */
export function cloneJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneJson);
  if (v && typeof v === 'object' && !(v instanceof RawJson)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v))
      Object.defineProperty(out, k, { value: cloneJson((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

const WORD = /[^\s,:;(){}'"[\]=]+/g;

/** Replaces the index-th word (a run of characters other than separators and quotes) of the text. */
export function applyTextMutation(text: string, m: TextMutation): string {
  const words = [...text.matchAll(WORD)];
  if (words.length === 0) return m.value + text;
  const w = words[m.index % words.length];
  return text.slice(0, w.index) + m.value + text.slice((w.index ?? 0) + w[0].length);
}

// ---------------------------------------------------------------------------------------------- a whole case

export interface Case {
  seed: number;
  json: JsonMutation[];
  text: TextMutation[];
  bytes: ByteMutation[];
}

/** Which mutators a target uses: byte-level always; the structure-aware ones where its seeds carry structure. */
export interface Mutators {
  /** Tokens inserted or overwritten anywhere (magic numbers, chunk ids, opcodes). */
  dictionary: Uint8Array[];
  /** Set or nudge the seeds' declared length/count fields. */
  fields: boolean;
  /** Mutate values of JSON seeds (then re-encode). */
  json: boolean;
  /** Replace words of text seeds (then re-encode). */
  text: boolean;
}

/** A case: a seed, then structure-aware mutations, then up to 4 byte mutations. */
export function caseArbitrary(seeds: Seed[], m: Mutators): fc.Arbitrary<Case> {
  return fc.record({
    seed: fc.nat({ max: seeds.length - 1 }),
    json: m.json ? fc.array(jsonMutation, { maxLength: 3 }) : fc.constant([]),
    text: m.text ? fc.array(textMutation, { maxLength: 3 }) : fc.constant([]),
    bytes: fc.array(byteMutation(m.dictionary, m.fields), { maxLength: 4 }),
  });
}

/** The input bytes a case describes. */
export function buildInput(seeds: Seed[], m: Mutators, c: Case): Uint8Array {
  const seed = seeds[c.seed % seeds.length];
  let b = seed.bytes;
  if (seed.json && c.json.length) {
    let v = cloneJson(seed.json.value);
    for (const jm of c.json) v = applyJsonMutation(v, jm);
    b = seed.json.encode(v);
  } else if (seed.text && c.text.length) {
    let t = seed.text.value;
    for (const tm of c.text) t = applyTextMutation(t, tm);
    b = seed.text.encode(t);
  }
  for (const bm of c.bytes) b = applyByteMutation(b, bm, seed.fields ?? [], m.dictionary);
  return seed.wrap ? seed.wrap(b) : b;
}

export const hex = (b: Uint8Array, max = 256): string =>
  Buffer.from(b.subarray(0, max)).toString('hex') + (b.length > max ? `… (${b.length} bytes)` : '');
export const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const utf8 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'utf8'));
