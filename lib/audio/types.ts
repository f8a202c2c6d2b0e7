/** Shapes shared by the audio modules. */

export type AudioFormat = 'wav' | 'flac' | 'mp3';

/** Decoder output: one Float32Array per channel (all the same length), samples nominally in [-1, 1]. */
export interface Pcm {
  channels: Float32Array[];
  sampleRate: number;
}

/** A decoded file, before any checks, mixing or resampling. */
export interface DecodedAudio extends Pcm {
  format: AudioFormat;
  durationS: number;
}

/**
 * The most decoded samples (all channels together) one file may give: 2^28 float32 values, 1 GiB (46 minutes
 * of 48 kHz stereo, 4.6 hours of 16 kHz mono). Compressed formats expand without bound — a FLAC frame of constant subframes is a few bytes
 * for 65535 samples — so decoders stop at this many instead of trusting the file.
 */
export const MAX_DECODED_SAMPLES = 2 ** 28;

/** Why `samples` decoded samples (all channels) are too many, or null. */
export function tooLong(samples: number, channels: number, sampleRate: number): string | null {
  if (samples <= MAX_DECODED_SAMPLES) return null;
  const minutes = MAX_DECODED_SAMPLES / channels / sampleRate / 60;
  return `longer than wavprobe decodes: over ${MAX_DECODED_SAMPLES} samples (${minutes.toFixed(0)} min at ${sampleRate} Hz × ${channels} channels); cut the file`;
}
