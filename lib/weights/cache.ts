import * as os from 'os';
import * as path from 'path';

/** Where hub downloads are cached: $WAVPROBE_CACHE, else $XDG_CACHE_HOME/wavprobe, else ~/.cache/wavprobe. */
export function cacheDir(): string {
  if (process.env.WAVPROBE_CACHE) return path.resolve(process.env.WAVPROBE_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'wavprobe');
}
