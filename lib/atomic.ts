import * as fs from 'fs';

/** Writes a file so readers never see half of it: `<path>.tmp-<pid>`, then rename over `path`. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    onFile(file, () => fs.writeFileSync(tmp, data));
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Runs `io` and names `file` in any system error it throws that names no path (writes on a file descriptor, e.g.
 * ENOSPC, carry none), so the CLI's one-line error can say which file failed.
 */
export function onFile<T>(file: string, io: () => T): T {
  try {
    return io();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === 'string' && err.path === undefined) err.path = file;
    throw e;
  }
}
