/** Bytes or a path in, decoded channels out; and the checks every consumer of decoded audio shares. */
import * as fs from 'fs';
import { AudioDecodeError } from '../errors';
import { decodeFlac } from './flac';
import { decodeMp3 } from './mp3';
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
  return { format, ...pcm, durationS: pcm.channels[0].length / pcm.sampleRate };
}

/** Reads a file's bytes; a missing or unreadable file is an AudioDecodeError, like any other bad input. */
export async function readAudioFile(file: string): Promise<Uint8Array> {
  try {
    return await fs.promises.readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new AudioDecodeError(`cannot read: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`, file);
  }
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
