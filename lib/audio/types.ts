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
