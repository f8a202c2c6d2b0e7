/**
 * A decoded file is bounded whatever its size says: a FLAC frame of eight constant subframes is 35 bytes for
 * 8 × 65535 samples, so a 18 KB file decodes to over a gigabyte. Decoding stops at MAX_DECODED_SAMPLES.
 */
import { decodeAudio } from '../../lib/audio';
import { MAX_DECODED_SAMPLES } from '../../lib/audio/types';
import { AudioDecodeError } from '../../lib/errors';

const crc8 = (bytes: number[]) =>
  bytes.reduce((c, b) => {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    return c;
  }, 0);
const crc16 = (bytes: number[]) =>
  bytes.reduce((c, b) => {
    c ^= b << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff;
    return c;
  }, 0);

/** `frames` FLAC frames of 65535 samples × 8 channels, every subframe the constant 0 (16-bit, 8 kHz). */
function constantFlac(frames: number): Uint8Array {
  const block = 65535;
  // STREAMINFO: min/max block 65535, frame sizes unknown, 8000 Hz, 8 channels, 16 bits, total samples unknown (0)
  const info = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x01, 0xf4, 0x0e, 0xf0, 0, 0, 0, 0, ...new Array(16).fill(0)];
  const out: number[] = [...Buffer.from('fLaC'), 0x80, 0, 0, 34, ...info];
  for (let n = 0; n < frames; n++) {
    // sync + fixed blocking; block size from the 16-bit field, 8 kHz, 8 independent channels, 16-bit (each frame
    // describes itself: the decoder is handed frames without STREAMINFO)
    const num = n < 0x80 ? [n] : [0xc0 | (n >> 6), 0x80 | (n & 0x3f)]; // the frame number, UTF-8 coded
    const header = [0xff, 0xf8, 0x74, 0x78, ...num, (block - 1) >> 8, (block - 1) & 0xff];
    const frame = [...header, crc8(header), ...new Array(8).fill([0x00, 0, 0]).flat()]; // constant subframes, value 0
    const crc = crc16(frame);
    out.push(...frame, crc >> 8, crc & 0xff);
  }
  return Uint8Array.from(out);
}

it('a small FLAC file of constant frames: decoded up to the limit, never beyond', async () => {
  const ok = await decodeAudio(constantFlac(2), 'two-frames.flac');
  expect([ok.channels.length, ok.channels[0].length, ok.sampleRate]).toEqual([8, 2 * 65535, 8000]);
  const frames = Math.ceil(MAX_DECODED_SAMPLES / (8 * 65535)) + 1;
  const bomb = constantFlac(frames);
  expect(bomb.length).toBeLessThan(40 * frames);
  await expect(decodeAudio(bomb, 'bomb.flac')).rejects.toThrow(
    new AudioDecodeError('longer than wavprobe decodes: over 268435456 samples (70 min at 8000 Hz × 8 channels); cut the file', 'bomb.flac'),
  );
}, 60_000);
