/**
 * Audio front-end: any common file in, mono float32 at 16 kHz out.
 *
 * Rules:
 * - Formats are told apart by their bytes, never the extension: WAV (RIFF/RF64; PCM 8/16/24/32-bit, float 32/64,
 *   WAVE_FORMAT_EXTENSIBLE), FLAC, MPEG audio (MP3, with or without ID3v2). Anything else is an AudioDecodeError.
 *   Integers map to int / 2^(bits-1) for WAV and FLAC alike (FLAC is bit-exact with its WAV).
 * - Mono is the mean of the channels.
 * - Sample rates: 1 kHz to 768 kHz (SUPPORTED_RATES), checked from the header before the samples are decoded.
 * - Resampler: Kaiser-windowed sinc, passband flat (measured < 0.001 dB ripple) to 0.9 × the lower Nyquist,
 *   ≥ 90 dB stopband from the lower Nyquist (90 dB design), zero delay, ceil(n·to/from) samples out; identity when
 *   the rate already matches. Its table is at most 2 MiB for any two supported rates, prime ones included. See
 *   resample.ts and spec/audio/resample.spec.ts for the measurements.
 * - Only regular files are opened (a FIFO, device or directory is refused before opening: they would hang or never
 *   end); a file name that is not valid UTF-8 is refused with its bytes shown (names.ts).
 * - Bad input (empty, truncated, unsupported codec or rate, NaN/Inf, zero length, unreadable) is an AudioDecodeError
 *   naming the file and the problem, and so is any other exception while loading a file (`cannot decode: <cause>`):
 *   one bad file never stops a batch. audioInfo() records it instead of throwing.
 * - Minimum length: wav2vec 2.0's conv encoder needs 400 samples at 16 kHz. Shorter audio is refused unless
 *   pad: true, which zero-pads at the end to 400 samples (minSamples to change the bound).
 * - MP3 delay: mpg123 trims encoder delay and padding when a Xing/LAME tag declares them (gapless), so tagged MP3s
 *   keep the source's length and timing; untagged ones keep the codec delay (LAME: 1105 samples at the start).
 * - Long audio: loadAudio() is whole-file mode; windows() cuts fixed windows with a hop or overlap, the last window
 *   shifted back to end at the last sample so all windows have full length (see windows.ts).
 */
export type { AudioFormat, DecodedAudio, Pcm } from './types';
export { decodeAudio, readAudioFile, checkSamples } from './decode';
export { loadAudio, prepareAudio, checkAudio, DEFAULT_MIN_SAMPLES, DEFAULT_SAMPLE_RATE } from './load';
export type { Audio16k, LoadOptions } from './load';
export { resample, resampledLength, RESAMPLER, SUPPORTED_RATES } from './resample';
export { toMono } from './mono';
export { windows } from './windows';
export type { AudioWindow, WindowOptions } from './windows';
export { audioStats, dbfs } from './stats';
export type { AudioStats } from './stats';
export { audioInfo } from './info';
export type { AudioInfo } from './info';
export { sniff } from './sniff';
