/** Level statistics of decoded audio, over every sample of every channel (NaN when a sample is NaN). */
export interface AudioStats {
  /** Largest absolute sample (1.0 = full scale). */
  peak: number;
  /** Root mean square (1.0 = full-scale square wave). */
  rms: number;
}

export function audioStats(channels: Float32Array[]): AudioStats {
  let peak = 0;
  let sumSq = 0;
  let n = 0;
  for (const ch of channels) {
    for (let i = 0; i < ch.length; i++) {
      const a = ch[i] < 0 ? -ch[i] : ch[i];
      if (a > peak) peak = a;
      sumSq += ch[i] * ch[i];
    }
    n += ch.length;
  }
  if (Number.isNaN(sumSq)) return { peak: NaN, rms: NaN }; // a NaN sample: no meaningful level
  return { peak, rms: n ? Math.sqrt(sumSq / n) : 0 };
}

/** 20·log10(x), -Infinity for silence. */
export function dbfs(x: number): number {
  return 20 * Math.log10(x);
}
