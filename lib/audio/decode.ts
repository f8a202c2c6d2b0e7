/** Bytes or a path in, decoded channels out; and the checks every consumer of decoded audio shares. */
import * as fs from 'fs';
import { AudioDecodeError } from '../errors';
import { decodeFlac } from './flac';
import { decodeMp3 } from './mp3';
import { nonUtf8Name } from './names';
import { unsupportedRate } from './resample';
import { sniff } from './sniff';
import type { DecodedAudio, Pcm } from './types';
import { decodeWav } from './wav';

/** Decodes WAV, FLAC or MP3, told apart by their bytes. `file` names the source in errors. */
export async function decodeAudio(bytes: Uint8Array, file: string): Promise<DecodedAudio> {
  const { format, start } = sniff(bytes, file);
  let pcm: Pcm;
  if (format === 'wav') pcm = decodeWav(bytes, file);
  else if (format === 'flac') pcm = await decodeFlac(bytes.subarray(start), file);
  else pcm = await decodeMp3(bytes, file);
  // The decoders check their headers' rates; this also covers a FLAC frame that contradicts its STREAMINFO
  const badRate = unsupportedRate(pcm.sampleRate);
  if (badRate) throw new AudioDecodeError(badRate, file);
  return { format, ...pcm, durationS: pcm.channels[0].length / pcm.sampleRate };
}

/**
 * Reads a file's bytes. Anything but a regular file is refused before it is opened: opening a FIFO waits for a
 * writer, and reading a device may never end. A missing or unreadable file is an AudioDecodeError, like any other
 * bad input; so is a name that is not valid UTF-8 (see names.ts).
 */
export async function readAudioFile(file: string): Promise<Uint8Array> {
  const badName = nonUtf8Name(file);
  if (badName) throw new AudioDecodeError(badName, file);
  try {
    requireRegularFile(await fs.promises.stat(file), file);
    // Non-blocking and checked again, in case the path became a FIFO in between
    const handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      requireRegularFile(await handle.stat(), file);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof AudioDecodeError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ENOENT') throw new AudioDecodeError(`cannot read: ${err.message}`, file);
    const hint = file.includes('\uFFFD') ? '; the name contains U+FFFD, so it was probably not valid UTF-8' : '';
    throw new AudioDecodeError(`cannot read: no such file${hint}`, file);
  }
}

const NOT_REGULAR: [string, (s: fs.Stats) => boolean][] = [
  ['directory', (s) => s.isDirectory()],
  ['FIFO', (s) => s.isFIFO()],
  ['character device', (s) => s.isCharacterDevice()],
  ['block device', (s) => s.isBlockDevice()],
  ['socket', (s) => s.isSocket()],
];

function requireRegularFile(stats: fs.Stats, file: string): void {
  if (stats.isFile()) return;
  const kind = NOT_REGULAR.find(([, is]) => is(stats))?.[0] ?? 'special file';
  throw new AudioDecodeError(`not a regular file (${kind})`, file);
}

/**
 * Any failure while reading, decoding or resampling `file` as an AudioDecodeError naming it: a decoder's internal
 * error (a RangeError on a malformed stream, say) is still one bad file, and a batch goes on to the next.
 */
export function asDecodeError(e: unknown, file: string): AudioDecodeError {
  if (e instanceof AudioDecodeError) return e;
  return new AudioDecodeError(`cannot decode: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, file);
}

/** Zero-length audio and NaN/Inf samples are errors. */
export function checkSamples(audio: Pcm, file: string): void {
  const frames = audio.channels[0]?.length ?? 0;
  if (frames === 0) throw new AudioDecodeError('zero-length audio (no samples)', file);
  audio.channels.forEach((ch, c) => {
    for (let i = 0; i < ch.length; i++) {
      if (ch[i] - ch[i] !== 0) {
        // NaN or ±Inf (x - x is 0 for every finite x; cheaper than a global Number.isFinite per sample)
        const at = `sample ${i} (${(i / audio.sampleRate).toFixed(3)} s)${audio.channels.length > 1 ? `, channel ${c}` : ''}`;
        throw new AudioDecodeError(`non-finite sample value ${ch[i]} at ${at}`, file);
      }
    }
  });
}
