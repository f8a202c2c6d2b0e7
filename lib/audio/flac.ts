/**
 * FLAC decoder over @wasm-audio-decoders/flac (libFLAC in WebAssembly), bit-exact: that library scales integers by
 * 1 / (2^(bits-1) - 1); we undo that and rescale by 1 / 2^(bits-1) so FLAC and WAV of the same samples decode alike.
 * A frame error (libFLAC checks each frame's CRC) or a sample count other than STREAMINFO's total is an AudioDecodeError.
 * The stream is fed in small chunks and decoding stops past MAX_DECODED_SAMPLES: a few bytes of FLAC can stand for
 * 65535 samples per channel, so the file's size says nothing about its decoded size.
 */
import { AudioDecodeError } from '../errors';
import { unsupportedRate } from './resample';
import { tooLong, type Pcm } from './types';
import { captureConsole, flacDecoderClass } from './wasm-decoders';

interface StreamInfo {
  sampleRate: number;
  channels: number;
  /** 0 when the encoder did not know it (or the stream is empty). */
  totalSamples: number;
}

export async function decodeFlac(bytes: Uint8Array, file: string): Promise<Pcm> {
  const fail = (reason: string) => new AudioDecodeError(reason, file);
  const info = streamInfo(bytes, file);
  const badRate = unsupportedRate(info.sampleRate);
  if (badRate) throw fail(badRate);
  const FLACDecoder = flacDecoderClass();
  const decoder = new FLACDecoder();
  await decoder.ready;
  try {
    const { value: out, messages } = await captureConsole(() => decodeBounded(decoder, bytes, info, file));
    if (messages.length) throw fail(`corrupt FLAC data: ${messages[0].replace(/^@wasm-audio-decoders\/flac: /, '')}`);
    if (info.totalSamples > 0 && out.samplesDecoded !== info.totalSamples) {
      throw fail(`truncated or corrupt FLAC: decoded ${out.samplesDecoded} of the ${info.totalSamples} samples STREAMINFO declares`);
    }
    if (out.samplesDecoded === 0) return { sampleRate: info.sampleRate, channels: Array.from({ length: info.channels }, () => new Float32Array(0)) };
    const libScale = 2 ** (out.bitDepth - 1) - 1;
    const scale = 2 ** (out.bitDepth - 1);
    const channels = out.channelData.map((x) => x.map((v) => Math.round(v * libScale) / scale));
    return { sampleRate: out.sampleRate, channels };
  } finally {
    decoder.free();
  }
}

/**
 * 2 KiB of FLAC decode to at most ~45 M samples (8 channels of 65535-sample constant subframes, ~24 bytes a frame),
 * the overshoot past the limit; chunked decoding runs as fast as a whole-file call (measured: 10 min of 16 kHz audio,
 * 211 vs 272 ms).
 */
const CHUNK_BYTES = 2048;

type FlacDecoder = InstanceType<ReturnType<typeof flacDecoderClass>>;
type FlacOutput = Awaited<ReturnType<FlacDecoder['decode']>>;

/** decodeFile's result, decoded chunk by chunk and refused as soon as it grows past MAX_DECODED_SAMPLES. */
async function decodeBounded(decoder: FlacDecoder, bytes: Uint8Array, info: StreamInfo, file: string): Promise<FlacOutput> {
  const parts: FlacOutput[] = [];
  let samples = 0;
  for (let at = 0; at < bytes.length + CHUNK_BYTES; at += CHUNK_BYTES) {
    const part = at < bytes.length ? await decoder.decode(bytes.subarray(at, at + CHUNK_BYTES)) : await decoder.flush(); // the last turn flushes
    samples += part.samplesDecoded;
    const long = tooLong(samples * info.channels, info.channels, info.sampleRate);
    if (long) throw new AudioDecodeError(long, file);
    if (part.samplesDecoded > 0) parts.push(part);
  }
  const first = parts[0];
  if (!first) return { channelData: [], samplesDecoded: 0, sampleRate: info.sampleRate, bitDepth: 16, errors: [] };
  const channelData = first.channelData.map((_, c) => {
    const out = new Float32Array(samples);
    let off = 0;
    for (const p of parts) {
      out.set(p.channelData[c], off);
      off += p.samplesDecoded;
    }
    return out;
  });
  return { ...first, channelData, samplesDecoded: samples, errors: parts.flatMap((p) => p.errors) };
}

/** STREAMINFO, the mandatory first metadata block: 'fLaC', 4-byte block header, 34 bytes. */
function streamInfo(bytes: Uint8Array, file: string): StreamInfo {
  if (bytes.length < 42) throw new AudioDecodeError(`truncated FLAC header (${bytes.length} bytes)`, file);
  if ((bytes[4] & 0x7f) !== 0) throw new AudioDecodeError('malformed FLAC: the first metadata block is not STREAMINFO', file);
  const b = bytes.subarray(8, 42);
  const sampleRate = (b[10] << 12) | (b[11] << 4) | (b[12] >> 4);
  const channels = ((b[12] >> 1) & 7) + 1;
  const totalSamples = (b[13] & 0x0f) * 2 ** 32 + ((b[14] << 24) >>> 0) + (b[15] << 16) + (b[16] << 8) + b[17];
  return { sampleRate, channels, totalSamples };
}
