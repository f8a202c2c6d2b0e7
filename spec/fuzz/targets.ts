/**
 * The fuzz targets: every parser of untrusted bytes, one row each — name, seed corpus (valid files from
 * spec/fixtures, or small valid files made here), the parse call, the mutators that fit the format and the
 * number of cases in the bounded run. spec/fuzz/*.spec.ts and spec/fuzz/run.ts run this table; nothing is copied.
 */
import * as fs from 'fs';
import * as path from 'path';
import { unzipSync, zipSync } from 'fflate';
import { decodeAudio, checkSamples } from '../../lib/audio/decode';
import type { DecodedAudio } from '../../lib/audio/types';
import { readCsv } from '../../lib/data/csv';
import { readCsvDataset } from '../../lib/data/csvlist';
import { readAsvspoof2019 } from '../../lib/data/asvspoof2019';
import { readAsvspoof2021 } from '../../lib/data/asvspoof2021';
import { readInTheWild } from '../../lib/data/inthewild';
import { WavprobeError } from '../../lib/errors';
import { decodeNpy, encodeNpy, NpyArray } from '../../lib/features/npy';
import { FeatureStore, readStore } from '../../lib/features/store';
import { readScoresCsv } from '../../lib/metrics/scores';
import { readHead, scoreHead, Head } from '../../lib/probe/head';
import { modelConfigToJson, parseModelConfig, readModelConfig, readPreprocessorConfig } from '../../lib/weights/config';
import { readSafetensors } from '../../lib/weights/safetensors';
import { readTorchZip, TORCH_ALLOWED_GLOBALS } from '../../lib/weights/torch';
import { unpickle } from '../../lib/weights/unpickle';
import { closeZip, MAX_INFLATE_BYTES, openZip, readEntry } from '../../lib/weights/zip';
import type { HostTensor } from '../../lib/weights/tensor';
import type { Scratch, Target } from './harness';
import { Field, Seed, fromHex, stringifyJson, utf8 } from './mutate';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const fixture = (rel: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(FIXTURES, rel)));
const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u32le = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const tokens = (...parts: (string | number[])[]): Uint8Array[] =>
  parts.map((p) => (typeof p === 'string' ? Uint8Array.from(Buffer.from(p, 'latin1')) : Uint8Array.from(p)));
const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const assert = (ok: boolean, why: string) => {
  if (!ok) throw new Error(why);
};

// ---------------------------------------------------------------------------------------------- audio

/** The size fields of every RIFF chunk, and the fmt / ds64 fields that decide how samples are read. */
function wavFields(b: Uint8Array): Field[] {
  const f: Field[] = [{ at: 4, width: 4, name: 'RIFF size' }];
  for (let pos = 12; pos + 8 <= b.length;) {
    const id = ascii(b, pos, 4);
    const size = u32le(b, pos + 4);
    const body = pos + 8;
    f.push({ at: pos + 4, width: 4, name: `'${id}' size` });
    if (id === 'fmt ') {
      f.push(
        { at: body, width: 2, name: 'format tag' },
        { at: body + 2, width: 2, name: 'channels' },
        { at: body + 4, width: 4, name: 'sample rate' },
        { at: body + 8, width: 4, name: 'byte rate' },
        { at: body + 12, width: 2, name: 'block align' },
        { at: body + 14, width: 2, name: 'bits per sample' },
      );
      if (size >= 40)
        f.push(
          { at: body + 16, width: 2, name: 'cbSize' },
          { at: body + 18, width: 2, name: 'valid bits' },
          { at: body + 24, width: 2, name: 'sub-format' },
        );
    }
    if (id === 'ds64')
      f.push(
        { at: body, width: 8, name: 'ds64 RIFF size' },
        { at: body + 8, width: 8, name: 'ds64 data size' },
        { at: body + 16, width: 8, name: 'ds64 sample count' },
      );
    if (size === 0xffffffff) break;
    pos = body + size + (size & 1);
  }
  return f;
}

/** FLAC: each metadata block's length, STREAMINFO's fields, the first frame's header. */
function flacFields(b: Uint8Array): Field[] {
  const f: Field[] = [];
  let pos = 4;
  while (pos + 4 <= b.length) {
    f.push({ at: pos, width: 1, name: 'block type' }, { at: pos + 1, width: 3, be: true, name: 'block length' });
    if ((b[pos] & 0x7f) === 0) {
      const s = pos + 4;
      f.push(
        { at: s, width: 2, be: true, name: 'min block size' },
        { at: s + 2, width: 2, be: true, name: 'max block size' },
        { at: s + 4, width: 3, be: true, name: 'min frame size' },
        { at: s + 7, width: 3, be: true, name: 'max frame size' },
        { at: s + 10, width: 4, be: true, name: 'rate/channels/bits/total (high)' },
        { at: s + 14, width: 4, be: true, name: 'total samples (low)' },
      );
    }
    const last = b[pos] & 0x80;
    pos += 4 + ((b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]);
    if (last) break;
  }
  if (pos + 4 <= b.length)
    f.push(
      { at: pos, width: 2, be: true, name: 'frame sync' },
      { at: pos + 2, width: 1, name: 'block size / rate codes' },
      { at: pos + 3, width: 1, name: 'channels / bits codes' },
    );
  return f;
}

/** MP3: the ID3v2 size, the first frame header, the Xing/Info tag's counts. */
function mp3Fields(b: Uint8Array): Field[] {
  const f: Field[] = [];
  let start = 0;
  if (ascii(b, 0, 3) === 'ID3') {
    f.push({ at: 5, width: 1, name: 'ID3 flags' }, { at: 6, width: 4, be: true, name: 'ID3 size (syncsafe)' });
    start = 10 + ((b[6] << 21) | (b[7] << 14) | (b[8] << 7) | b[9]);
  }
  f.push({ at: start, width: 4, be: true, name: 'frame header' }, { at: start + 2, width: 1, name: 'bitrate / rate' });
  for (const side of [9, 17, 32]) {
    const at = start + 4 + side;
    if (['Xing', 'Info'].includes(ascii(b, at, 4))) {
      f.push(
        { at: at + 4, width: 4, be: true, name: 'Xing flags' },
        { at: at + 8, width: 4, be: true, name: 'Xing frames' },
        { at: at + 12, width: 4, be: true, name: 'Xing bytes' },
      );
    }
  }
  return f;
}

const audioSeeds = (ext: string, fields: (b: Uint8Array) => Field[]) => (): Seed[] =>
  fs
    .readdirSync(path.join(FIXTURES, 'audio'))
    .filter((n) => n.endsWith(ext))
    .sort()
    .map((n) => {
      const bytes = fixture(`audio/${n}`);
      return { name: `audio/${n}`, bytes, fields: fields(bytes) };
    });

/** decodeAudio (sniff + WAV/FLAC/MP3 decoder) and the sample checks every consumer runs after it. */
async function parseAudio(input: Uint8Array): Promise<DecodedAudio> {
  const audio = await decodeAudio(input, 'fuzz.audio');
  checkSamples(audio, 'fuzz.audio');
  return audio;
}

function checkAudio(v: unknown): void {
  const a = v as DecodedAudio;
  assert(a.channels.length >= 1, `${a.channels.length} channels`);
  assert(
    a.channels.every((c) => c instanceof Float32Array && c.length === a.channels[0].length),
    'channels of different lengths',
  );
  assert(Number.isFinite(a.sampleRate) && a.sampleRate > 0, `sample rate ${a.sampleRate}`);
  assert(Number.isFinite(a.durationS), `duration ${a.durationS}`);
}

const AUDIO_TOKENS = tokens(
  'RIFF',
  'RF64',
  'WAVE',
  'fmt ',
  'data',
  'ds64',
  'LIST',
  'fLaC',
  'ID3',
  'Xing',
  'Info',
  'OggS',
  [0xff, 0xfb],
  [0xff, 0xf8],
  [0xfe, 0xff],
  [0xff, 0xff, 0xff, 0xff],
  [0, 0, 0, 0],
);

// ---------------------------------------------------------------------------------------------- weights

/** safetensors: a JSON header value, re-encoded with its 8-byte length in front of the original data. */
function safetensorsSeed(name: string): Seed {
  const bytes = fixture(name);
  const len = Number(Buffer.from(bytes).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + len)).toString('utf8'));
  const data = bytes.subarray(8 + len);
  const encode = (v: unknown): Uint8Array => {
    const json = Buffer.from(stringifyJson(v), 'utf8');
    const out = Buffer.alloc(8 + json.length + data.length);
    out.writeBigUInt64LE(BigInt(json.length));
    json.copy(out, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  return { name, bytes, fields: [{ at: 0, width: 8, name: 'header length' }], json: { value: header, encode } };
}

/** Zip: the end record's counts and offsets, each central record's sizes/offsets/lengths, each local header's. */
function zipFields(b: Uint8Array): Field[] {
  const f: Field[] = [];
  let eocd = -1;
  for (let i = b.length - 22; i >= 0; i--) {
    if (u32le(b, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return f;
  f.push(
    { at: eocd + 8, width: 2, name: 'EOCD entries on disk' },
    { at: eocd + 10, width: 2, name: 'EOCD entries' },
    { at: eocd + 12, width: 4, name: 'central directory size' },
    { at: eocd + 16, width: 4, name: 'central directory offset' },
    { at: eocd + 20, width: 2, name: 'comment length' },
  );
  for (let p = u32le(b, eocd + 16), n = 0; n < u16le(b, eocd + 10) && p + 46 <= b.length && u32le(b, p) === 0x02014b50; n++) {
    f.push(
      { at: p + 8, width: 2, name: `entry ${n} flags` },
      { at: p + 10, width: 2, name: `entry ${n} method` },
      { at: p + 20, width: 4, name: `entry ${n} compressed size` },
      { at: p + 24, width: 4, name: `entry ${n} size` },
      { at: p + 28, width: 2, name: `entry ${n} name length` },
      { at: p + 30, width: 2, name: `entry ${n} extra length` },
      { at: p + 32, width: 2, name: `entry ${n} comment length` },
      { at: p + 42, width: 4, name: `entry ${n} local header offset` },
    );
    const local = u32le(b, p + 42);
    if (local + 30 <= b.length) {
      f.push({ at: local + 26, width: 2, name: `local ${n} name length` }, { at: local + 28, width: 2, name: `local ${n} extra length` });
    }
    p += 46 + u16le(b, p + 28) + u16le(b, p + 30) + u16le(b, p + 32);
  }
  return f;
}

const ZIP_TOKENS = tokens(
  'PK\x03\x04',
  'PK\x01\x02',
  'PK\x05\x06',
  'PK\x06\x06',
  'PK\x06\x07',
  [0x01, 0x00],
  [0xff, 0xff],
  [0xff, 0xff, 0xff, 0xff],
  'archive/data.pkl',
  'data/0',
);

/** A small zip with a DEFLATE entry (torch never compresses; other writers do) and an empty one. */
function deflatedZip(): Seed {
  const bytes = zipSync({
    'archive/data.pkl': [fixtureEntry('weights/strided_p2.bin', 'archive/data.pkl'), { level: 6 }],
    'archive/empty': new Uint8Array(0),
  });
  return { name: 'made: deflated zip', bytes, fields: zipFields(bytes) };
}

function fixtureEntry(file: string, entry: string): Uint8Array {
  return unzipSync(fixture(file))[entry];
}

/** Operand offsets of a pickle's opcodes (ints, lengths, memo slots): the fields a mutation aims at. */
export function pickleFields(b: Uint8Array): Field[] {
  const f: Field[] = [];
  const fixed: Record<number, 1 | 2 | 4 | 8> = { 0x80: 1, 0x95: 8, 0x4a: 4, 0x4b: 1, 0x4d: 2, 0x47: 8, 0x71: 1, 0x72: 4, 0x68: 1, 0x6a: 4 };
  const counted: Record<number, 1 | 4 | 8> = { 0x8a: 1, 0x8b: 4, 0x58: 4, 0x8c: 1, 0x8d: 8, 0x42: 4, 0x43: 1, 0x8e: 8 };
  for (let p = 0; p < b.length && f.length < 2000;) {
    const op = b[p++];
    if (op in fixed) {
      f.push({ at: p, width: fixed[op], name: `operand of 0x${op.toString(16)}` });
      p += fixed[op];
    } else if (op in counted) {
      const w = counted[op];
      f.push({ at: p, width: w, name: `length of 0x${op.toString(16)}` });
      const n = w === 1 ? b[p] : u32le(b, p);
      if (op === 0x8a && n >= 1 && n <= 8) f.push({ at: p + 1, width: n === 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1, name: 'LONG1 value' });
      p += w + n;
    } else if (op === 0x63) {
      for (let k = 0; k < 2; k++) p = b.indexOf(0x0a, p) + 1 || b.length;
    } else if (op === 0x2e) break;
  }
  return f;
}

const PICKLE_TOKENS = tokens(
  '(',
  ')',
  ']',
  '}',
  'e',
  'a',
  'u',
  's',
  't',
  'l',
  'd',
  '0',
  '1',
  '2',
  'N',
  'R',
  'b',
  'Q',
  '.',
  '\x85',
  '\x86',
  '\x87',
  '\x88',
  '\x93',
  '\x94',
  'h\x00',
  'h\x01',
  'q\x00',
  'j\xff\xff\xff\xff',
  'r\xff\xff\xff\x7f',
  'K\xff',
  'M\xff\xff',
  'J\xff\xff\xff\x7f',
  'J\x00\x00\x00\x80',
  '\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f',
  '\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01',
  '\x8b\xff\xff\xff\x7f',
  'X\xff\xff\xff\xff',
  '\x8c\xff',
  '\x8d\xff\xff\xff\xff\xff\xff\xff\xff',
  '\x95\xff\xff\xff\xff\xff\xff\xff\xff',
  'G\x7f\xf0\x00\x00\x00\x00\x00\x00',
  'G\x7f\xf8\x00\x00\x00\x00\x00\x00',
  'ctorch\nFloatStorage\n',
  'ctorch._utils\n_rebuild_tensor_v2\n',
  'ccollections\nOrderedDict\n',
  'cos\nsystem\n',
  'cbuiltins\neval\n',
  '(X\x07\x00\x00\x00storageh\x05X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x0ctQ',
);

/** Small valid pickles for the opcodes the torch fixtures do not use (protocol 4 framing, APPENDS, floats, …). */
const HAND_PICKLES: [string, string][] = [
  ['list via APPENDS', '8002 5d 71 00 28 4b 01 4b 02 4b 03 65 2e'],
  ['dict via SETITEMS, memo get', '8002 7d 71 00 28 58 01000000 61 71 01 4b 01 68 01 4e 75 2e'],
  [
    'protocol 4: FRAME, MEMOIZE, STACK_GLOBAL, REDUCE',
    '8004 95 2200000000000000 8c 0b 636f6c6c656374696f6e73 94 8c 0b 4f726465726564446963 74 94 93 94 29 52 94 2e',
  ],
  ['tuples, floats, longs, bytes', '8002 4b 01 85 4d ff ff 4a 00 00 00 80 86 47 3ff0000000000000 8a 02 ff 7f 87 43 03 616263 88 89 4e 87 86 87 2e'],
  ['DICT, LIST, TUPLE, POP_MARK, DUP, POP', '8002 28 58 01000000 6b 4b 01 64 28 4b 02 6c 28 4b 03 74 28 4b 04 31 32 30 85 87 2e'],
];

/** A generic hook set: every allowlisted global is callable, persistent ids resolve to themselves. */
const PICKLE_HOOKS = {
  allowed: TORCH_ALLOWED_GLOBALS,
  reduce: (fn: { qualifiedName: string }, args: unknown[]) => ({ call: fn.qualifiedName, args }),
  build: (obj: unknown) => obj,
  persistentLoad: (pid: unknown) => ({ pid }),
};

/** A torch .bin seed whose data.pkl is mutated and put back into the zip (stored, as torch.save writes it). */
function torchPickleSeed(file: string): Seed {
  const entries = unzipSync(fixture(file));
  const pkl = Object.keys(entries).find((n) => n.endsWith('/data.pkl'))!;
  return {
    name: `${file}:${pkl}`,
    bytes: entries[pkl],
    fields: pickleFields(entries[pkl]),
    wrap: (b) => zipSync({ ...entries, [pkl]: b }, { level: 0 }),
  };
}

function checkTensors(v: unknown): void {
  for (const [name, t] of v as Map<string, HostTensor>) {
    assert(
      t.shape.every((d) => Number.isInteger(d) && d >= 0),
      `tensor "${name}": shape ${JSON.stringify(t.shape)}`,
    );
    assert(t.data.length === product(t.shape), `tensor "${name}": ${t.data.length} values for shape ${JSON.stringify(t.shape)}`);
  }
}

const TORCH_BINS = ['weights/strided_p2.bin', 'weights/strided_p4.bin', 'golden/wav2vec2_base_tiny/pytorch_model.bin'];

// ---------------------------------------------------------------------------------------------- features, data

/** .npy: its header dict as text (re-encoded as v1.0 when it fits, else v2.0, with the original data). */
const npySeed = (name: string): Seed => npySeedOf(name, fixture(name));

function npySeedOf(name: string, bytes: Uint8Array): Seed {
  const v2 = bytes[6] >= 2;
  const len = v2 ? u32le(bytes, 8) : u16le(bytes, 8);
  const start = v2 ? 12 : 10;
  const header = Buffer.from(bytes.subarray(start, start + len)).toString('latin1');
  const data = bytes.subarray(start + len);
  const encode = (h: string): Uint8Array => {
    const text = Buffer.from(h, 'latin1');
    const big = text.length > 0xffff;
    const pre = Buffer.alloc(big ? 12 : 10);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, big ? 2 : 1, 0]).copy(pre);
    if (big) pre.writeUInt32LE(text.length, 8);
    else pre.writeUInt16LE(text.length, 8);
    return Buffer.concat([pre, text, data]);
  };
  return {
    name,
    bytes,
    fields: [
      { at: 6, width: 1, name: 'major version' },
      { at: 8, width: v2 ? 4 : 2, name: 'header length' },
    ],
    text: { value: header, encode },
  };
}

function checkNpy(v: unknown): void {
  const a = v as NpyArray;
  assert(a.shape.length >= 1 && a.shape.length <= 2, `shape (${a.shape})`);
  assert(
    a.shape.every((d) => Number.isSafeInteger(d) && d >= 0),
    `shape (${a.shape})`,
  );
  assert(a.data.length === product(a.shape), `${a.data.length} values for shape (${a.shape})`);
}

const textSeed = (name: string, text: string): Seed => ({ name, bytes: utf8(text), text: { value: text, encode: utf8 } });
const CSV_TOKENS = tokens('"', ',', '\n', '\r\n', '\r', '""', '\xef\xbb\xbf', '\x00', '\xff\xfe', ' ', '\t');

const CSV_DATASET = [
  'file,label,speaker,attack,split,note',
  'a/1.wav,bona-fide,spk1,,train,"quoted, with comma"',
  'a/2.flac,spoof,spk1,A07,train,"two\nlines"',
  'b\\3.mp3,fake,spk2,A08,dev,',
  '/abs/4.wav,0,spk3,,dev,"say ""hi"""',
  'c/5.wav,1,,,eval,x',
  '',
].join('\n');
const IN_THE_WILD = 'file,speaker,label\n0.wav,Alec Guinness,spoof\n1.wav,Alec Guinness,bona-fide\n2.wav,Barack Obama,spoof\n';
const LA2019 = 'LA_0079 LA_T_1138215 - - bonafide\nLA_0079 LA_T_1271820 - A01 spoof\nLA_0080 LA_T_1272637 - A06 spoof\n';
const LA2021 =
  'LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval\nLA_0020 LA_E_5849185 none none - bonafide notrim progress\nLA_0023 LA_E_5999930 g722 loc_tx A16 spoof trim hidden\n';
const DF2021 =
  'LA_0023 DF_E_2000011 nocodec asvspoof A14 spoof notrim progress traditional_vocoder - - - -\n' +
  'LA_0027 DF_E_2000013 mp3m4a vcc2020 - bonafide notrim eval - - - - -\n' +
  'TEF2 DF_E_2000024 ogg vcc2018 A19 spoof notrim eval neural_vocoder_autoregressive C team1 f-f en\n' +
  'VCC2020 DF_E_2000026 nocodec vcc2020 Task1-team20 spoof notrim eval -\n';

/** A small valid feature store (4 rows, layers 0 and 1 of 3 values), as files. */
const STORE_INDEX =
  'id,label,path,duration\na.wav,bona-fide,/d/a.wav,1.5\nb.wav,spoof,/d/b.wav,2\n"c,1.wav",spoof,"/d/c,1.wav",0.5\nd.wav,bona-fide,/d/d.wav,3\n';
const STORE_FILES = (): Record<string, Uint8Array> => ({
  'index.csv': utf8(STORE_INDEX),
  'layer_00.npy': encodeNpy(
    Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5),
    [4, 3],
  ),
  'layer_01.npy': encodeNpy(
    Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)),
    [4, 3],
  ),
  'meta.json': utf8(JSON.stringify({ model: 'demo', layers: [0, 1], pooling: 'mean' })),
});

/** readStore on the small store with one of its files replaced by the input. */
function parseStoreWith(file: string) {
  return (input: Uint8Array, s: Scratch) => {
    for (const [name, bytes] of Object.entries(STORE_FILES())) s.write(`store/${name}`, name === file ? input : bytes);
    return readStore(path.join(s.dir, 'store'));
  };
}

function checkStore(v: unknown): void {
  const st = v as FeatureStore;
  assert(st.labels.length === st.index.length, `${st.labels.length} labels for ${st.index.length} rows`);
  for (const [k, a] of st.layers) {
    assert(
      a.n === st.index.length && a.data.length === a.n * a.d,
      `layer ${k} is [${a.n}, ${a.d}] with ${a.data.length} values for ${st.index.length} rows`,
    );
    assert(a.data.every(Number.isFinite), `layer ${k} holds a non-finite value`);
  }
}

// ---------------------------------------------------------------------------------------------- config, head

const jsonSeed = (name: string, value: unknown): Seed => {
  const encode = (v: unknown) => utf8(stringifyJson(v));
  return { name, bytes: encode(value), json: { value, encode } };
};

const GOLDEN_MODELS = ['wav2vec2_base_tiny', 'wav2vec2_large_tiny', 'hubert_base_tiny', 'wavlm_base_tiny', 'wavlm_large_tiny'];
const goldenJson = (model: string, file: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, 'golden', model, file), 'utf8'));

function headSeeds(): Seed[] {
  const base = {
    format: 'wavprobe-head',
    version: 1,
    model: 'wav2vec2_base_tiny',
    model_fingerprint: 'sha256:8c3e5d0f2a9b4c1e7d6f0a3b2c5d8e9f1a4b7c0d3e6f9a2b5c8d1e4f7a0b3c6d',
    layer: 3,
    pooling: 'mean',
    weights: [0.5, -1.25, 2],
    bias: -0.1,
    standardize: { mean: [0.1, 0.2, -0.3], std: [1, 0.5, 2] },
    temperature: 1.3,
    platt: null,
    training: {
      store: '/x/store',
      n: 10,
      n_bona: 5,
      n_spoof: 5,
      dim: 3,
      prior_spoof: 0.5,
      C: 1e6,
      class_weight: null,
      objective: 0.1,
      iterations: 12,
      converged: true,
    },
    calibration: null,
  };
  return [
    jsonSeed('made: head, standardised, temperature', base),
    jsonSeed('made: head, raw features, platt', { ...base, layer: 0, standardize: null, temperature: 1, platt: { a: 0.8, b: 0.1 } }),
  ];
}

/** A head read back must score: a finite P(spoof) at its features' mean (or 0) and at ±1 around it. */
function checkHead(v: unknown): void {
  const h = v as Head;
  const d = h.weights.length;
  const mean = h.standardize ? h.standardize.mean : new Array<number>(d).fill(0);
  const X = Float64Array.from([...mean, ...mean.map((m) => m + 1), ...mean.map((m) => m - 1)]);
  let probs: Float64Array;
  try {
    probs = scoreHead(h, X, 3, d).probs;
  } catch (e) {
    if (e instanceof WavprobeError) return; // refused when scoring: a clean error too
    throw new Error(`scoring with it threw ${(e as Error).name}: ${(e as Error).message}`);
  }
  assert(probs.every(Number.isFinite), `P(spoof) ${Array.from(probs)} for features at the mean and ±1 (NaN is not a score)`);
}

// ---------------------------------------------------------------------------------------------- the table

export const TARGETS: Target[] = [
  {
    name: 'wav',
    group: 'audio',
    what: 'decodeAudio (lib/audio/wav.ts)',
    seeds: audioSeeds('.wav', wavFields),
    mutators: { fields: true, dictionary: AUDIO_TOKENS },
    parse: parseAudio,
    check: checkAudio,
    runs: 3000,
  },
  {
    name: 'flac',
    group: 'audio',
    what: 'decodeAudio (lib/audio/flac.ts over libFLAC)',
    seeds: audioSeeds('.flac', flacFields),
    mutators: { fields: true, dictionary: AUDIO_TOKENS },
    parse: parseAudio,
    check: checkAudio,
    runs: 400,
  },
  {
    name: 'mp3',
    group: 'audio',
    what: 'decodeAudio (lib/audio/mp3.ts over mpg123)',
    seeds: audioSeeds('.mp3', mp3Fields),
    mutators: { fields: true, dictionary: AUDIO_TOKENS },
    parse: parseAudio,
    check: checkAudio,
    runs: 500,
  },
  {
    name: 'safetensors',
    group: 'weights',
    what: 'readSafetensors (lib/weights/safetensors.ts)',
    seeds: () =>
      ['weights/halves.safetensors', 'weights/strided_expected.safetensors', 'golden/wav2vec2_base_tiny/model.safetensors'].map(safetensorsSeed),
    mutators: {
      fields: true,
      json: true,
      dictionary: tokens('"', '{', '}', '[', ']', ',', 'F32', 'BF16', '"data_offsets"', '"__metadata__"', '1e999', '-1'),
    },
    parse: (b, s) => readSafetensors(s.write('model.safetensors', b)),
    check: checkTensors,
    runs: 1000,
  },
  {
    name: 'zip',
    group: 'weights',
    what: 'openZip + readEntry of every entry (lib/weights/zip.ts)',
    seeds: () => [
      ...TORCH_BINS.slice(0, 2).map((n) => {
        const bytes = fixture(n);
        return { name: n, bytes, fields: zipFields(bytes) };
      }),
      deflatedZip(),
    ],
    mutators: { fields: true, dictionary: ZIP_TOKENS },
    parse: (b, s) => {
      const zip = openZip(s.write('archive.zip', b));
      try {
        let total = 0;
        for (const e of zip.entries.values()) total += readEntry(zip, e).length;
        return total;
      } finally {
        closeZip(zip);
      }
    },
    check: (v) => assert((v as number) <= 16 * MAX_INFLATE_BYTES, `${v} bytes of entries`),
    runs: 1000,
  },
  {
    name: 'unpickle',
    group: 'weights',
    what: 'unpickle with an accept-all hook set (lib/weights/unpickle.ts)',
    seeds: () => [
      ...TORCH_BINS.map((n) => {
        const entries = unzipSync(fixture(n));
        const pkl = Object.keys(entries).find((k) => k.endsWith('/data.pkl'))!;
        return { name: `${n}:${pkl}`, bytes: entries[pkl], fields: pickleFields(entries[pkl]) };
      }),
      ...HAND_PICKLES.map(([name, h]) => {
        const bytes = fromHex(h);
        return { name: `made: ${name}`, bytes, fields: pickleFields(bytes) };
      }),
    ],
    mutators: { fields: true, dictionary: PICKLE_TOKENS },
    parse: (b) => unpickle(b, PICKLE_HOOKS, 'fuzz.pkl'),
    runs: 2000,
  },
  {
    name: 'torch-zip',
    group: 'weights',
    what: 'readTorchZip on a mutated .bin (lib/weights/torch.ts, zip.ts)',
    seeds: () =>
      TORCH_BINS.map((n) => {
        const bytes = fixture(n);
        return { name: n, bytes, fields: zipFields(bytes) };
      }),
    mutators: { fields: true, dictionary: ZIP_TOKENS },
    parse: (b, s) => readTorchZip(s.write('pytorch_model.bin', b)),
    check: checkTensors,
    runs: 600,
  },
  {
    name: 'torch-pickle',
    group: 'weights',
    what: "readTorchZip on a .bin whose data.pkl is mutated (lib/weights/torch.ts's state-dict reader)",
    seeds: () => TORCH_BINS.map(torchPickleSeed),
    mutators: { fields: true, dictionary: PICKLE_TOKENS },
    parse: (b, s) => readTorchZip(s.write('pytorch_model.bin', b)),
    check: checkTensors,
    runs: 600,
  },
  {
    name: 'model-config',
    group: 'weights',
    what: 'readModelConfig (lib/weights/config.ts parseModelConfig)',
    seeds: () =>
      GOLDEN_MODELS.flatMap((m) => {
        const j = goldenJson(m, 'config.json');
        return [jsonSeed(`golden/${m}/config.json`, j), jsonSeed(`made: ${m} config, its fields only`, modelConfigToJson(parseModelConfig(j, m)))];
      }),
    mutators: { json: true, dictionary: tokens('{', '}', '[', ']', ',', '"', '1e999', '-1', 'null', 'NaN') },
    parse: (b, s) => {
      s.write('config.json', b);
      return readModelConfig(s.dir);
    },
    runs: 600,
  },
  {
    name: 'preprocessor-config',
    group: 'weights',
    what: 'readPreprocessorConfig (lib/weights/config.ts)',
    seeds: () => GOLDEN_MODELS.map((m) => jsonSeed(`golden/${m}/preprocessor_config.json`, goldenJson(m, 'preprocessor_config.json'))),
    mutators: { json: true, dictionary: tokens('{', '}', '"', '1e999', 'null') },
    parse: (b, s) => {
      s.write('preprocessor_config.json', b);
      return readPreprocessorConfig(s.dir);
    },
    runs: 300,
  },
  {
    name: 'head',
    group: 'features',
    what: 'readHead (lib/probe/head.ts), then scoring with it',
    seeds: headSeeds,
    mutators: { json: true, dictionary: tokens('{', '}', '[', ']', ',', '"', '1e999', '-1', 'null', '5e-324') },
    parse: (b, s) => readHead(s.write('head.json', b)),
    check: checkHead,
    runs: 800,
  },
  {
    name: 'npy',
    group: 'features',
    what: 'decodeNpy (lib/features/npy.ts)',
    seeds: () =>
      [
        ...fs
          .readdirSync(path.join(FIXTURES, 'npy'))
          .filter((n) => n.endsWith('.npy'))
          .sort()
          .map((n) => `npy/${n}`),
        'probe/ts_0_y.npy',
        'weights/hubert_base_tiny.pos_conv.f64.npy',
      ].map(npySeed),
    mutators: {
      fields: true,
      text: true,
      dictionary: tokens("'shape': (", "'descr': '<f4', ", "'fortran_order': False, ", '(', ')', ',', "'", '\n', ' ', '{', '}', '\x93NUMPY'),
    },
    parse: (b) => decodeNpy(b, 'fuzz.npy'),
    check: checkNpy,
    runs: 2000,
  },
  {
    name: 'scores-csv',
    group: 'features',
    what: 'readScoresCsv (lib/metrics/scores.ts over csv.ts)',
    seeds: () => [textSeed('probe/scores_2.csv', fs.readFileSync(path.join(FIXTURES, 'probe/scores_2.csv'), 'utf8'))],
    mutators: { text: true, dictionary: CSV_TOKENS },
    parse: (b, s) => readScoresCsv(s.write('scores.csv', b)),
    runs: 250,
  },
  {
    name: 'store-index',
    group: 'features',
    what: 'readStore with a mutated index.csv (lib/features/store.ts)',
    seeds: () => [textSeed('made: store index.csv', STORE_INDEX)],
    mutators: { text: true, dictionary: CSV_TOKENS },
    parse: parseStoreWith('index.csv'),
    check: checkStore,
    runs: 300,
  },
  {
    name: 'store-layer',
    group: 'features',
    what: 'readStore with a mutated layer_01.npy (lib/features/store.ts, npy.ts)',
    seeds: () => [{ ...npySeedOf('made: store layer_01.npy', STORE_FILES()['layer_01.npy']) }],
    mutators: { fields: true, text: true, dictionary: tokens("'shape': (", '(', ')', ',', "'", '\x00\x00\xc0\x7f', '\x00\x00\x80\x7f') },
    parse: parseStoreWith('layer_01.npy'),
    check: checkStore,
    runs: 400,
  },
  {
    name: 'csv',
    group: 'data',
    what: 'readCsv (lib/data/csv.ts)',
    seeds: () => [
      textSeed('probe/scores_2.csv', fs.readFileSync(path.join(FIXTURES, 'probe/scores_2.csv'), 'utf8')),
      textSeed('made: quoted fields', '\ufeffid,label,note\r\n"a,1",spoof,"say ""hi"""\r\n\r\nb,bona-fide,"two\nlines"\nc,spoof,\n'),
    ],
    mutators: { text: true, dictionary: CSV_TOKENS },
    parse: (b, s) => readCsv(s.write('table.csv', b), ['id', 'label']),
    runs: 800,
  },
  {
    name: 'csv-dataset',
    group: 'data',
    what: 'readCsvDataset, csv:<file> (lib/data/csvlist.ts)',
    seeds: () => [textSeed('made: dataset csv', CSV_DATASET)],
    mutators: { text: true, dictionary: CSV_TOKENS },
    parse: (b, s) => readCsvDataset(s.write('list.csv', b)),
    runs: 600,
  },
  {
    name: 'in-the-wild',
    group: 'data',
    what: 'readInTheWild meta.csv (lib/data/inthewild.ts)',
    seeds: () => [textSeed('made: meta.csv', IN_THE_WILD)],
    mutators: { text: true, dictionary: CSV_TOKENS },
    parse: (b, s) => readInTheWild(path.dirname(s.write('itw/meta.csv', b))),
    runs: 400,
  },
  {
    name: 'asvspoof2019',
    group: 'data',
    what: 'readAsvspoof2019 protocol (lib/data/asvspoof2019.ts)',
    seeds: () => [textSeed('made: LA train protocol', LA2019)],
    mutators: { text: true, dictionary: tokens(' ', '\t', '\n', '\r\n', '-', 'bonafide', 'spoof', '\x00', '\xef\xbb\xbf') },
    parse: (b, s) => {
      s.write('la19/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.train.trn.txt', b);
      return readAsvspoof2019(path.join(s.dir, 'la19'), { split: 'train' });
    },
    runs: 600,
  },
  {
    name: 'asvspoof2021-la',
    group: 'data',
    what: 'readAsvspoof2021 LA keys (lib/data/asvspoof2021.ts)',
    seeds: () => [textSeed('made: LA 2021 keys', LA2021)],
    mutators: { text: true, dictionary: tokens(' ', '\t', '\n', '-', 'bonafide', 'spoof', 'eval', 'progress', '\x00') },
    parse: (b, s) => {
      s.write('la21/keys/CM/trial_metadata.txt', b);
      return readAsvspoof2021(path.join(s.dir, 'la21'), 'LA');
    },
    runs: 500,
  },
  {
    name: 'asvspoof2021-df',
    group: 'data',
    what: 'readAsvspoof2021 DF keys, --subset eval (lib/data/asvspoof2021.ts)',
    seeds: () => [textSeed('made: DF 2021 keys', DF2021)],
    mutators: { text: true, dictionary: tokens(' ', '\t', '\n', '-', 'bonafide', 'spoof', 'eval', 'progress', '\x00') },
    parse: (b, s) => {
      s.write('df21/keys/DF/CM/trial_metadata.txt', b);
      return readAsvspoof2021(path.join(s.dir, 'df21'), 'DF', { subset: 'eval' });
    },
    runs: 500,
  },
];
