/**
 * One writer per output. A writer of a feature store, head file or report folder holds `<target>.lock`, a file
 * created with O_EXCL ('wx') that records {pid, host, started, command}. O_EXCL creation is atomic on local and
 * network filesystems alike (NFSv3+), unlike flock, which NFS may ignore or emulate per host.
 *
 * A lock left by a process that is gone from this host is stale and taken over; a lock from another host is never
 * broken automatically (its processes cannot be seen from here): the error names the file to delete.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UsageError } from './errors';

export interface LockOwner {
  pid: number;
  host: string;
  started: string;
  command: string;
}

export interface Lock {
  readonly file: string;
  /** Throws when the lock file no longer holds this process's record (deleted or taken over by hand). */
  assertHeld(): void;
  release(): void;
}

export const lockFile = (target: string): string => `${path.resolve(target)}.lock`;

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
};

function readOwner(file: string): LockOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return Number.isInteger(o?.pid) && typeof o.host === 'string' ? o : null;
  } catch {
    return null; // gone, or being written: treated as held
  }
}

/**
 * Takes the lock on `target` for this process or throws a UsageError:
 * "another wavprobe is writing <target> (pid N on host H)". Holding it, removes what an interrupted writer of
 * `target` left beside it (`<target>.tmp-<pid>`): none of that can belong to a live writer.
 */
export function acquireLock(target: string, command = process.argv.slice(1).join(' ')): Lock {
  const file = lockFile(target);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command };
  const text = JSON.stringify(me) + '\n';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      fd = -1;
    }
    if (fd >= 0) {
      try {
        fs.writeSync(fd, text);
      } catch (e) {
        fs.rmSync(file, { force: true }); // e.g. ENOSPC: leave no empty lock behind
        throw e;
      } finally {
        fs.closeSync(fd);
      }
      break;
    }
    const owner = readOwner(file);
    const stale = owner !== null && owner.host === me.host && owner.pid !== me.pid && !isAlive(owner.pid);
    if (!stale || attempt >= 3) {
      const who = owner ? `pid ${owner.pid} on host ${owner.host}, since ${owner.started}` : 'lock file unreadable';
      throw new UsageError(`another wavprobe is writing ${target} (${who}); if no such process is running, delete ${file}`);
    }
    takeOverStale(file, owner);
  }
  removeStaleTemps(target);
  let held = true;
  // A process.exit() (a second Ctrl-C) skips finally blocks; the lock still goes with the process.
  const onExit = () => lock.release();
  process.on('exit', onExit);
  const lock: Lock = {
    file,
    assertHeld() {
      const o = readOwner(file);
      if (!o || o.pid !== me.pid || o.host !== me.host || o.started !== me.started) {
        throw new UsageError(`lost the lock on ${target}: ${file} was removed or taken over; another process may have written it`);
      }
    },
    release() {
      if (!held) return;
      held = false;
      process.off('exit', onExit);
      const o = readOwner(file);
      if (o && o.pid === me.pid && o.host === me.host && o.started === me.started) fs.rmSync(file, { force: true });
    },
  };
  return lock;
}

/**
 * Moves a dead process's lock aside so that the next O_EXCL create can win. Two processes may both see the same
 * stale lock: the rename lets only one of them move it, and a process that moved a fresh lock instead (the other
 * one had already replaced it) links it back.
 */
function takeOverStale(file: string, seen: LockOwner): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = readOwner(aside);
  if (!moved || moved.pid !== seen.pid || moved.started !== seen.started) {
    try {
      fs.linkSync(aside, file); // a live lock: put it back unless a third writer already holds the name
    } catch {
      /* the other writer's lock is lost; its assertHeld() will say so */
    }
  }
  fs.rmSync(aside, { force: true });
}

/** Runs `body` holding the lock on `target`, released afterwards whatever happens. */
export async function withLock<T>(target: string, body: (lock: Lock) => Promise<T> | T): Promise<T> {
  const lock = acquireLock(target);
  try {
    return await body(lock);
  } finally {
    lock.release();
  }
}

/** Removes the temporary siblings `<target>.tmp-<pid>` (files or folders) of other processes. */
function removeStaleTemps(target: string): void {
  const dir = path.dirname(path.resolve(target));
  const prefix = `${path.basename(path.resolve(target))}.tmp-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)) && Number(n.slice(prefix.length)) !== process.pid) {
      fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    }
  }
}
