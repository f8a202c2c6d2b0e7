/**
 * MPEG audio (layers I-III) decoder over mpg123-decoder (mpg123 in WebAssembly).
 *
 * Delay and padding: mpg123-decoder runs with gapless decoding on (its default). When the first frame carries a
 * Xing/Info + LAME tag (LAME and most encoders write one), mpg123 trims the encoder delay and the end padding the
 * tag declares, so the output has the source's length and alignment. Without that tag nothing is trimmed: the output
 * starts with encoder + decoder delay (576 + 529 samples for LAME) and ends with padding up to a whole frame.
 * We do not guess delays for untagged files. A file shorter than its Xing tag's byte count is an error; without
 * that count a truncated file decodes up to its last whole frame. MPEG frames carry no checksum over the audio data
 * (the CRC is optional and covers side info only), so damage inside frames can decode to noise undetected.
 * mpg123-decoder always returns two channels; a mono stream (per its frame header) keeps only the first.
 */
import { AudioDecodeError } from '../errors';
import { ascii, id3v2End, MpegFrameHeader, mpegFrameHeader } from './sniff';
import type { Pcm } from './types';
import { captureConsole, mpegDecoderClass } from './wasm-decoders';

/** `bytes`: the whole file, ID3v2 tag included. */
export async function decodeMp3(bytes: Uint8Array, file: string): Promise<Pcm> {
  const start = id3v2End(bytes, file);
  const header = mpegFrameHeader(bytes, start);
  if (!header) throw new AudioDecodeError('not an MPEG audio stream (no frame header)', file);
  // Encoders differ on whether the Xing byte count includes the ID3v2 tag: compare with the whole file
  const declared = xingByteCount(bytes.subarray(start), header);
  if (declared !== undefined && bytes.length < declared) {
    throw new AudioDecodeError(`truncated MP3: the Xing tag declares ${declared} bytes, the file has ${bytes.length}`, file);
  }
  const MPEGDecoder = mpegDecoderClass();
  const decoder = new MPEGDecoder();
  await decoder.ready;
  try {
    const { value: out, messages } = await captureConsole(() => decoder.decode(bytes.subarray(start)));
    if (messages.length) throw new AudioDecodeError(`corrupt MP3 data: ${messages[0]}`, file);
    if (out.samplesDecoded === 0) throw new AudioDecodeError('truncated MP3: no whole audio frame', file);
    return { sampleRate: out.sampleRate, channels: out.channelData.slice(0, header.channels) };
  } finally {
    decoder.free();
  }
}

/** The stream length in bytes a Xing/Info tag in the first (layer III) frame declares, if it does. */
function xingByteCount(bytes: Uint8Array, header: MpegFrameHeader): number | undefined {
  if (header.layer !== 3) return undefined;
  const sideInfo = header.mpeg1 ? (header.channels === 1 ? 17 : 32) : header.channels === 1 ? 9 : 17;
  const at = 4 + sideInfo;
  if (at + 16 > bytes.length || !['Xing', 'Info'].includes(ascii(bytes, at, 4))) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint32(at + 4);
  if (!(flags & 2)) return undefined; // no byte count
  return view.getUint32(at + 8 + (flags & 1 ? 4 : 0)); // the frame count comes first when present
}
