/**
 * WAV decoder: RIFF and RF64, integer PCM of 8/16/24/32 bits (or fewer valid bits left-justified in those
 * containers), IEEE float 32/64, and WAVE_FORMAT_EXTENSIBLE with a PCM or float sub-format.
 * Integers become int / 2^(bits-1) (8-bit: (u8 - 128) / 128), the convention of libsndfile/soundfile and torchaudio.
 *
 * Our own parser rather than node-wav 0.0.2: that one has no WAVE_FORMAT_EXTENSIBLE, RF64 or odd-chunk padding,
 * scales positive and negative integers differently (v/32767 vs v/32768), maps 24-bit -2^23 to +1.0, throws on a
 * data chunk at an unaligned offset, returns `undefined` for Buffers in Node's shared pool, and turns a truncated
 * data chunk into NaNs. The digits-spoof spec checks this decoder against node-wav on all 800 files.
 */
import { AudioDecodeError } from '../errors';
import { unsupportedRate } from './resample';
import { ascii } from './sniff';
import { tooLong, type Pcm } from './types';

const PCM = 0x0001;
const FLOAT = 0x0003;
const EXTENSIBLE = 0xfffe;
/** KSDATAFORMAT_SUBTYPE_{PCM,IEEE_FLOAT} after their 2-byte format tag. */
const SUBFORMAT_GUID_TAIL = '000000001000800000aa00389b71';
const CODEC_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'mu-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MPEG layer 3',
};
/** A data size of 0xFFFFFFFF: RF64 takes the size from ds64; a stream writer that never knew the length means "to the end". */
const UNKNOWN_SIZE = 0xffffffff;

interface Fmt {
  float: boolean;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  /** Bytes per sample in the container (1..4, or 4/8 for float). */
  bytes: number;
}

export function decodeWav(bytes: Uint8Array, file: string): Pcm {
  const fail = (reason: string) => new AudioDecodeError(reason, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12) throw fail(`truncated WAV header (${bytes.length} bytes)`);
  const rf64 = ascii(bytes, 0, 4) === 'RF64';
  let fmt: Fmt | undefined;
  let ds64DataSize: number | undefined;
  for (let pos = 12; ;) {
    if (pos + 8 > bytes.length) {
      throw fail(
        pos < bytes.length ? `truncated WAV header: a chunk header is cut off at byte ${pos}` : `no data chunk${fmt ? '' : ' and no fmt chunk'}`,
      );
    }
    const id = ascii(bytes, pos, 4);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'data') {
      if (!fmt) throw fail('data chunk before the fmt chunk');
      let n = size;
      if (size === UNKNOWN_SIZE) n = rf64 && ds64DataSize !== undefined ? ds64DataSize : bytes.length - body;
      if (body + n > bytes.length) throw fail(`truncated: the data chunk declares ${n} bytes, the file holds ${bytes.length - body}`);
      const frames = Math.floor(n / fmt.blockAlign);
      const long = tooLong(frames * fmt.channels, fmt.channels, fmt.sampleRate); // 8-bit samples take 4× their bytes
      if (long) throw new AudioDecodeError(long, file);
      return { sampleRate: fmt.sampleRate, channels: readSamples(view, body, frames, fmt) };
    }
    if (body + size > bytes.length) throw fail(`truncated WAV header: the '${id}' chunk runs past the end of the file`);
    if (id === 'fmt ') fmt = parseFmt(view, body, size, fail);
    else if (id === 'ds64' && size >= 16) ds64DataSize = Number(view.getBigUint64(body + 8, true));
    pos = body + size + (size & 1); // chunks are padded to even sizes
  }
}

function parseFmt(view: DataView, at: number, size: number, fail: (r: string) => Error): Fmt {
  if (size < 16) throw fail(`malformed fmt chunk (${size} bytes, expected at least 16)`);
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (tag === EXTENSIBLE) {
    if (size < 40) throw fail(`malformed WAVE_FORMAT_EXTENSIBLE fmt chunk (${size} bytes, expected 40)`);
    const guidTail = Buffer.from(view.buffer, view.byteOffset + at + 26, 14).toString('hex');
    tag = view.getUint16(at + 24, true);
    if (guidTail !== SUBFORMAT_GUID_TAIL) throw fail('unsupported WAV codec: WAVE_FORMAT_EXTENSIBLE with a non-PCM sub-format GUID');
  }
  if (tag !== PCM && tag !== FLOAT) {
    const name = CODEC_NAMES[tag] ? ` (${CODEC_NAMES[tag]})` : '';
    throw fail(`unsupported WAV codec: format tag 0x${tag.toString(16).padStart(4, '0')}${name}; only PCM and IEEE float`);
  }
  const float = tag === FLOAT;
  const bytes = Math.ceil(bits / 8);
  if (channels === 0) throw fail('malformed fmt chunk: 0 channels');
  const badRate = unsupportedRate(sampleRate);
  if (badRate) throw fail(badRate);
  if (float ? bits !== 32 && bits !== 64 : bits < 1 || bits > 32) throw fail(`unsupported WAV codec: ${bits}-bit ${float ? 'float' : 'PCM'}`);
  if (blockAlign !== channels * bytes) throw fail(`malformed fmt chunk: block align ${blockAlign} for ${channels} channels of ${bits} bits`);
  return { float, channels, sampleRate, blockAlign, bytes };
}

/** Interleaved frames at `at` -> one Float32Array per channel. */
function readSamples(view: DataView, at: number, frames: number, fmt: Fmt): Float32Array[] {
  const read = sampleReader(view, fmt);
  const out = Array.from({ length: fmt.channels }, () => new Float32Array(frames)); // [C][frames]
  for (let i = 0, p = at; i < frames; i++) {
    for (let c = 0; c < fmt.channels; c++, p += fmt.bytes) out[c][i] = read(p);
  }
  return out;
}

function sampleReader(view: DataView, fmt: Fmt): (p: number) => number {
  if (fmt.float) return fmt.bytes === 4 ? (p) => view.getFloat32(p, true) : (p) => view.getFloat64(p, true);
  switch (fmt.bytes) {
    case 1:
      return (p) => (view.getUint8(p) - 128) / 128;
    case 2:
      return (p) => view.getInt16(p, true) / 32768;
    case 3:
      return (p) => (view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16)) / 8388608;
    default:
      return (p) => view.getInt32(p, true) / 2147483648;
  }
}
