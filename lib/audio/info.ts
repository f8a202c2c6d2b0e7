/** One record per file for `wavprobe audio-info`: what the file is and whether loadAudio would accept it. */
import { asDecodeError, decodeAudio, readAudioFile } from './decode';
import { checkAudio, LoadOptions } from './load';
import { audioStats } from './stats';
import type { AudioFormat, DecodedAudio } from './types';

/** Keys as printed by `audio-info --json`; null where the file did not decode that far. */
export interface AudioInfo {
  file: string;
  /** loadAudio(file, opts) would succeed. */
  ok: boolean;
  format: AudioFormat | null;
  sample_rate: number | null;
  channels: number | null;
  duration_s: number | null;
  /** Over all channels of the source, 1.0 = full scale. */
  peak: number | null;
  rms: number | null;
  /** The reason, only when ok is false. */
  error?: string;
}

/** Never throws for bad audio: the problem goes into `error` so a batch can carry on. */
export async function audioInfo(file: string, opts: LoadOptions = {}): Promise<AudioInfo> {
  let decoded: DecodedAudio | undefined;
  try {
    decoded = await decodeAudio(await readAudioFile(file), file);
    checkAudio(decoded, file, opts);
    return { ...describe(file, decoded), ok: true };
  } catch (e) {
    return { ...describe(file, decoded), ok: false, error: asDecodeError(e, file).reason };
  }
}

function describe(file: string, d: DecodedAudio | undefined): AudioInfo {
  const stats = d ? audioStats(d.channels) : undefined;
  return {
    file,
    ok: false,
    format: d?.format ?? null,
    sample_rate: d?.sampleRate ?? null,
    channels: d?.channels.length ?? null,
    duration_s: d?.durationS ?? null,
    peak: stats && Number.isFinite(stats.peak) ? stats.peak : null,
    rms: stats && Number.isFinite(stats.rms) ? stats.rms : null,
  };
}
