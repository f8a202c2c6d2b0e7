/// <reference lib="dom" />
/**
 * `fs` in the browser build: an in-memory file system. The engine worker puts what it fetched (a store's files,
 * a head, audio) here, under paths of its own, and the library reads them with the same calls as in Node; it can
 * write nothing (the browser path only reads).
 */
const files = new Map<string, Uint8Array>();

const norm = (p: string): string => '/' + String(p).split('/').filter(Boolean).join('/');

function noEntry(p: string, syscall: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, ${syscall} '${p}'`), { code: 'ENOENT', syscall, path: p });
}

/** Adds (or replaces) a file. */
export function putFile(p: string, bytes: Uint8Array): void {
  files.set(norm(p), bytes);
}

/** Removes every file under `dir` that `drop` selects. */
export function removeFiles(dir: string, drop: (name: string) => boolean = () => true): void {
  const prefix = norm(dir) + '/';
  for (const k of [...files.keys()]) if (k.startsWith(prefix) && drop(k.slice(prefix.length))) files.delete(k);
}

const isDir = (p: string): boolean => {
  const prefix = norm(p) === '/' ? '/' : norm(p) + '/';
  for (const k of files.keys()) if (k.startsWith(prefix)) return true;
  return false;
};

class Stats {
  constructor(
    readonly size: number,
    private readonly dir: boolean,
  ) {}
  isFile = () => !this.dir;
  isDirectory = () => this.dir;
  isFIFO = () => false;
  isCharacterDevice = () => false;
  isBlockDevice = () => false;
  isSocket = () => false;
  isSymbolicLink = () => false;
}

export const existsSync = (p: string): boolean => files.has(norm(p)) || isDir(p);

export function statSync(p: string): Stats {
  const f = files.get(norm(p));
  if (f) return new Stats(f.length, false);
  if (isDir(p)) return new Stats(0, true);
  throw noEntry(p, 'stat');
}

export const lstatSync = statSync;

export function readFileSync(p: string, encoding?: string | { encoding?: string }): Uint8Array | string {
  const f = files.get(norm(p));
  if (!f) throw noEntry(p, 'open');
  const enc = typeof encoding === 'string' ? encoding : encoding?.encoding;
  return enc ? new TextDecoder().decode(f) : f;
}

export function readdirSync(p: string): string[] {
  const prefix = norm(p) === '/' ? '/' : norm(p) + '/';
  const names = new Set<string>();
  for (const k of files.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]);
  if (!names.size) throw noEntry(p, 'scandir');
  return [...names].sort();
}

export function realpathSync(p: string): string {
  if (!existsSync(p)) throw noEntry(p, 'realpath');
  return norm(p);
}

const open = new Map<number, string>();
let nextFd = 3;

export function openSync(p: string): number {
  if (!files.has(norm(p))) throw noEntry(p, 'open');
  open.set(nextFd, norm(p));
  return nextFd++;
}

const fileOf = (fd: number): Uint8Array => {
  const f = files.get(open.get(fd) ?? '');
  if (!f) throw Object.assign(new Error('EBADF: bad file descriptor'), { code: 'EBADF' });
  return f;
};

export const fstatSync = (fd: number): Stats => new Stats(fileOf(fd).length, false);

export function readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number | null): number {
  const f = fileOf(fd);
  const part = f.subarray(position ?? 0, Math.min(f.length, (position ?? 0) + length));
  buf.set(part, offset);
  return part.length;
}

export function closeSync(fd: number): void {
  open.delete(fd);
}

export const constants = { O_RDONLY: 0, O_NONBLOCK: 0 };

/** Writes: the browser build only reads, so each is an EROFS error naming the path. */
const readOnly =
  (syscall: string) =>
  (p: unknown): never => {
    throw Object.assign(new Error(`EROFS: read-only file system (the browser build), ${syscall} '${String(p)}'`), {
      code: 'EROFS',
      syscall,
      path: p,
    });
  };
export const writeSync = readOnly('write');
export const writeFileSync = readOnly('open');
export const appendFileSync = readOnly('open');
export const renameSync = readOnly('rename');
export const rmSync = readOnly('rm');
export const unlinkSync = readOnly('unlink');
export const mkdirSync = readOnly('mkdir');
export const mkdtempSync = readOnly('mkdtemp');
export const createWriteStream = readOnly('open');

export const promises = {
  stat: async (p: string) => statSync(p),
  open: async (p: string) => {
    const fd = openSync(p);
    return { stat: async () => fstatSync(fd), readFile: async () => fileOf(fd), close: async () => closeSync(fd) };
  },
  readFile: async (p: string, enc?: string) => readFileSync(p, enc),
};

export default {
  existsSync,
  statSync,
  lstatSync,
  readFileSync,
  readdirSync,
  realpathSync,
  openSync,
  fstatSync,
  readSync,
  closeSync,
  constants,
  promises,
};
