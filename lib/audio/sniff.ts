/**
 * Container detection from the bytes (never the file name): RIFF/RF64 WAVE, FLAC (`fLaC`), MPEG audio
 * (an ID3v2 tag and/or an MPEG frame header). A leading ID3v2 tag is skipped first, since some FLAC files carry one too.
 */
import { AudioDecodeError } from '../errors';
import type { AudioFormat } from './types';

export interface Sniffed {
  format: AudioFormat;
  /** Where the codec stream starts (after an ID3v2 tag). */
  start: number;
}

/** Names for containers we recognise but do not decode, so the error says what the file is. */
const UNSUPPORTED: [string, string][] = [
  ['OggS', 'Ogg (Vorbis/Opus/FLAC-in-Ogg)'],
  ['FORM', 'AIFF'],
  ['caff', 'Core Audio (CAF)'],
  ['#!AMR', 'AMR'],
  ['wvpk', 'WavPack'],
  ['MAC ', "Monkey's Audio"],
  ['.snd', 'Sun/NeXT AU'],
];

export function sniff(bytes: Uint8Array, file: string): Sniffed {
  if (bytes.length === 0) throw new AudioDecodeError('empty file (0 bytes)', file);
  const head = ascii(bytes, 0, 4);
  if ((head === 'RIFF' || head === 'RF64') && bytes.length >= 12 && ascii(bytes, 8, 4) === 'WAVE') return { format: 'wav', start: 0 };
  if (head === 'RIFF' || head === 'RF64') {
    if (bytes.length < 12) throw new AudioDecodeError(`truncated WAV header (${bytes.length} bytes)`, file);
    throw new AudioDecodeError(`unsupported format: RIFF form '${ascii(bytes, 8, 4)}', not WAVE`, file);
  }
  const start = id3v2End(bytes, file);
  if (ascii(bytes, start, 4) === 'fLaC') return { format: 'flac', start };
  if (mpegFrameHeader(bytes, start)) return { format: 'mp3', start };
  if (start > 0) throw new AudioDecodeError('unsupported format: an ID3 tag not followed by MPEG or FLAC audio', file);
  if (ascii(bytes, 4, 4) === 'ftyp') throw new AudioDecodeError('unsupported format: MP4/M4A (ISO base media)', file);
  for (const [magic, name] of UNSUPPORTED) {
    if (ascii(bytes, 0, magic.length) === magic) throw new AudioDecodeError(`unsupported format: ${name}`, file);
  }
  const hex = Buffer.from(bytes.subarray(0, 8)).toString('hex');
  throw new AudioDecodeError(`unsupported format: not WAV, FLAC or MP3 (starts with 0x${hex})`, file);
}

/** End of a leading ID3v2 tag (0 when there is none): 10-byte header, syncsafe size, optional 10-byte footer. */
export function id3v2End(bytes: Uint8Array, file: string): number {
  if (ascii(bytes, 0, 3) !== 'ID3') return 0;
  if (bytes.length < 10) throw new AudioDecodeError(`truncated ID3 tag header (${bytes.length} bytes)`, file);
  const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
  const end = 10 + size + (bytes[5] & 0x10 ? 10 : 0);
  if (end >= bytes.length) throw new AudioDecodeError(`truncated: the ID3 tag declares ${end} bytes, the file has ${bytes.length}`, file);
  return end;
}

export interface MpegFrameHeader {
  sampleRate: number;
  channels: number;
  mpeg1: boolean;
  /** 1, 2 or 3. */
  layer: number;
}

const MPEG_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** The MPEG audio frame header at `at`, or null when the 4 bytes there are not a valid one. */
export function mpegFrameHeader(bytes: Uint8Array, at: number): MpegFrameHeader | null {
  if (at + 4 > bytes.length || bytes[at] !== 0xff || (bytes[at + 1] & 0xe0) !== 0xe0) return null;
  const version = (bytes[at + 1] >> 3) & 3; // 0: MPEG 2.5, 1: reserved, 2: MPEG 2, 3: MPEG 1
  const layer = (bytes[at + 1] >> 1) & 3; // 0: reserved
  const bitrateIndex = bytes[at + 2] >> 4; // 15: invalid
  const rateIndex = (bytes[at + 2] >> 2) & 3; // 3: reserved
  if (version === 1 || layer === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  return { sampleRate: MPEG_RATES[version][rateIndex], channels: bytes[at + 3] >> 6 === 3 ? 1 : 2, mpeg1: version === 3, layer: 4 - layer };
}

export function ascii(bytes: Uint8Array, at: number, n: number): string {
  return at + n <= bytes.length ? String.fromCharCode(...bytes.subarray(at, at + n)) : '';
}
