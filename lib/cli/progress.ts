/** A progress bar on a TTY (files, audio seconds per second, ETA); silent otherwise, so logs stay clean. */
import { SingleBar } from 'cli-progress';
import type { ExtractProgress } from '../features/extract';

export function extractionProgress(label: string): { update: (p: ExtractProgress) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {value}/{total} files | {failed} failed | {speed} audio s/s | ETA {eta_formatted}`,
    etaBuffer: 50,
    hideCursor: true,
  });
  let started = false;
  return {
    update(p) {
      const payload = { failed: p.failed, speed: p.elapsedS > 0 ? (p.audioSeconds / p.elapsedS).toFixed(1) : '-' };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else bar.update(p.done, payload);
    },
    stop: () => started && bar.stop(),
  };
}

/** Ctrl-C stops a long job between two files (its journal keeps what is done); a second Ctrl-C quits at once. */
export function stopOnSignal(): { requested: () => boolean; release: () => void } {
  let stop = false;
  const onSig = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping after the current file; rerun the same command to continue\n');
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  return {
    requested: () => stop,
    release: () => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    },
  };
}
