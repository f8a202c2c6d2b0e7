/**
 * The bundled digits-spoof set (data/digits-spoof, 800 WAVs at 8 kHz, many under 4 KiB): intact, and every file
 * decodes, cross-checked sample by sample against node-wav (an independent decoder), and loads at 16 kHz.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeAudio, prepareAudio } from '../../lib/audio';
import { verifySha256Sums } from './checksums';

const DATA = path.join(__dirname, '../../data/digits-spoof');
const nodeWav: { decode(b: ArrayBuffer): { sampleRate: number; channelData: Float32Array[] } } = require('node-wav');

function metaFiles(split: string): string[] {
  const [header, ...rows] = fs
    .readFileSync(path.join(DATA, split, 'meta.csv'), 'utf8')
    .trim()
    .split('\n');
  expect(header.split(',')[0]).toBe('file');
  return rows.map((r) => path.join(split, r.split(',')[0]));
}

const WAVS = ['train', 'dev', 'eval'].flatMap(metaFiles);
const round = Math.round; // hoisted: global lookups are slow in Jest's vm context, and this runs per sample

/** Index of the first differing sample (or length difference), -1 when identical; faster than toEqual on 3M samples. */
function firstMismatch(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

it('matches its SHA256SUMS (every wav and csv) and ships README and recipe', () => {
  const listed = verifySha256Sums(DATA).map((f) => path.normalize(f));
  expect(listed.filter((f) => f.endsWith('.wav')).sort()).toEqual([...WAVS].sort());
  expect(listed).toEqual(expect.arrayContaining(['details.csv', 'train/meta.csv', 'dev/meta.csv', 'eval/meta.csv']));
  for (const f of ['README.md', 'recipe/make_digits_spoof.py', 'recipe/digits_common.py']) expect(fs.existsSync(path.join(DATA, f))).toBe(true);
});

it('lists 800 files: 400 train, 200 dev, 200 eval', () => {
  expect(WAVS.length).toBe(800);
  expect(WAVS.filter((f) => f.startsWith('train')).length).toBe(400);
});

it('decodes every WAV exactly as node-wav does, from pooled and odd-offset buffers too', async () => {
  let pooled = 0;
  for (const rel of WAVS) {
    const bytes = fs.readFileSync(path.join(DATA, rel)); // < 4 KiB: often a view into Node's shared pool
    if (bytes.byteOffset !== 0) pooled++;
    const d = await decodeAudio(bytes, rel);
    expect([d.format, d.sampleRate, d.channels.length]).toEqual(['wav', 8000, 1]);
    // node-wav scales v/32768 below zero and v/32767 above: compare the integers
    const ref = nodeWav.decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer).channelData[0];
    const x = d.channels[0];
    expect(x.length).toBe(ref.length);
    expect(x.length).toBeGreaterThan(0);
    expect(
      firstMismatch(
        x,
        ref.map((v) => (v < 0 ? v * 32768 : round(v * 32767)) / 32768),
      ),
    ).toBe(-1);
    const odd = Buffer.alloc(bytes.length + 3);
    bytes.copy(odd, 3);
    expect(firstMismatch((await decodeAudio(odd.subarray(3), rel)).channels[0], x)).toBe(-1); // no alignment assumptions
  }
  expect(pooled).toBeGreaterThan(0); // the node-wav trap was met
});

it('loads every WAV as mono 16 kHz float32 of twice the length', async () => {
  for (const rel of WAVS) {
    const d = await decodeAudio(fs.readFileSync(path.join(DATA, rel)), rel);
    const a = prepareAudio(d, rel);
    expect([a.sampleRate, a.sourceRate, a.channels, a.format]).toEqual([16000, 8000, 1, 'wav']);
    expect(a.samples.length).toBe(2 * d.channels[0].length);
    expect(a.samples.length).toBeGreaterThanOrEqual(2714); // the shortest clip, eval/0136.wav: 1357 samples at 8 kHz
    expect(a.samples.every(Number.isFinite)).toBe(true);
  }
});
