/** A file in, model-ready audio out: decode, check, mono, resample, minimum length. */
import { AudioDecodeError, UsageError } from '../errors';
import { asDecodeError, checkSamples, decodeAudio, readAudioFile } from './decode';
import { toMono } from './mono';
import { resample, resampledLength, unsupportedRate } from './resample';
import type { AudioFormat, DecodedAudio } from './types';

export interface LoadOptions {
  /** Output sample rate (default 16000). */
  sampleRate?: number;
  /** Fewest output samples accepted (default 400: the receptive field of wav2vec 2.0's conv encoder at 16 kHz). */
  minSamples?: number;
  /** Below minSamples: false (default) refuses with an AudioDecodeError, true zero-pads at the end to minSamples. */
  pad?: boolean;
}

export interface Audio16k {
  /** Mono (channel mean), at sampleRate. */
  samples: Float32Array;
  sampleRate: number;
  sourceRate: number;
  /** Channel count of the source. */
  channels: number;
  format: AudioFormat;
  /** Duration of the source, before any padding. */
  durationS: number;
}

export const DEFAULT_SAMPLE_RATE = 16000;
export const DEFAULT_MIN_SAMPLES = 400;

/** Whatever goes wrong with the file is an AudioDecodeError naming it, so that a batch can go on to the next file. */
export async function loadAudio(file: string, opts: LoadOptions = {}): Promise<Audio16k> {
  const badRate = unsupportedRate(opts.sampleRate ?? DEFAULT_SAMPLE_RATE);
  if (badRate) throw new UsageError(`loadAudio: sampleRate: ${badRate}`); // the caller's mistake, not the file's
  try {
    return prepareAudio(await decodeAudio(await readAudioFile(file), file), file, opts);
  } catch (e) {
    throw asDecodeError(e, file);
  }
}

/** The steps of loadAudio after decoding, for audio already in memory. */
export function prepareAudio(decoded: DecodedAudio, file: string, opts: LoadOptions = {}): Audio16k {
  const rate = opts.sampleRate ?? DEFAULT_SAMPLE_RATE;
  checkAudio(decoded, file, opts);
  let samples = resample(toMono(decoded.channels), decoded.sampleRate, rate);
  const minSamples = opts.minSamples ?? DEFAULT_MIN_SAMPLES;
  if (samples.length < minSamples) {
    const padded = new Float32Array(minSamples);
    padded.set(samples);
    samples = padded;
  }
  return {
    samples,
    sampleRate: rate,
    sourceRate: decoded.sampleRate,
    channels: decoded.channels.length,
    format: decoded.format,
    durationS: decoded.durationS,
  };
}

/** Every check prepareAudio makes (samples finite and present, long enough unless padding), without resampling. */
export function checkAudio(decoded: DecodedAudio, file: string, opts: LoadOptions = {}): void {
  checkSamples(decoded, file);
  const rate = opts.sampleRate ?? DEFAULT_SAMPLE_RATE;
  const minSamples = opts.minSamples ?? DEFAULT_MIN_SAMPLES;
  const n = resampledLength(decoded.channels[0].length, decoded.sampleRate, rate);
  if (n < minSamples && !opts.pad) {
    throw new AudioDecodeError(
      `too short: ${n} samples at ${rate} Hz (${decoded.durationS.toFixed(4)} s); the model needs at least ${minSamples} (pad: true zero-pads)`,
      file,
    );
  }
}
