/**
 * Fixed-length windows over long audio, for chunked inference.
 *
 * Windows of round(windowS·rate) samples start at 0, hop, 2·hop, … while they fit. If the last of those ends
 * before the audio does, one more window is added that ends exactly at the last sample (it overlaps its
 * neighbour more than the others do), so every window has full length and every sample is covered.
 * Audio shorter than one window gives a single window of all of it; `windowS: Infinity` is whole-file mode.
 * Windows are views (subarray) into `samples`, not copies.
 */
import { UsageError } from '../errors';

export interface WindowOptions {
  windowS: number;
  /** Seconds between window starts; or give overlapS (hop = window - overlap). Default: no overlap. */
  hopS?: number;
  overlapS?: number;
  sampleRate: number;
}

export interface AudioWindow {
  /** Index of the window's first sample in the whole signal. */
  start: number;
  samples: Float32Array;
}

export function* windows(samples: Float32Array, opts: WindowOptions): Generator<AudioWindow> {
  const { win, hop } = windowSizes(opts);
  if (samples.length <= win) {
    yield { start: 0, samples };
    return;
  }
  let start = 0;
  for (; start + win <= samples.length; start += hop) yield { start, samples: samples.subarray(start, start + win) };
  const lastStart = start - hop;
  if (lastStart + win < samples.length) yield { start: samples.length - win, samples: samples.subarray(samples.length - win) };
}

function windowSizes(opts: WindowOptions): { win: number; hop: number } {
  const { windowS, hopS, overlapS, sampleRate } = opts;
  if (hopS !== undefined && overlapS !== undefined) throw new UsageError('windows: give hopS or overlapS, not both');
  if (!(windowS > 0)) throw new UsageError(`windows: windowS must be > 0, got ${windowS}`);
  const win = windowS === Infinity ? Infinity : Math.round(windowS * sampleRate);
  const hop = hopS !== undefined ? Math.round(hopS * sampleRate) : overlapS !== undefined ? win - Math.round(overlapS * sampleRate) : win;
  if (win < 1) throw new UsageError(`windows: a ${windowS} s window is under one sample at ${sampleRate} Hz`);
  if (!(hop >= 1 && hop <= win)) throw new UsageError(`windows: the hop must be between 1 sample and the window length (${win} samples), got ${hop}`);
  return { win, hop };
}
