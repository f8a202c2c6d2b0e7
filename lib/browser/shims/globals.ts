/// <reference lib="dom" />
/**
 * Node globals the library uses on the engine path, for the browser build (esbuild injects them where they are
 * read): Buffer.from for the kernels' base64 binaries (tfjs asks Buffer.byteLength only where it found Node's), and
 * process.cwd (path-browserify's resolve of relative paths) as the in-memory file system's root.
 */
export const browserCwd = (): string => '/';

class BrowserBuffer {
  static from(s: string | ArrayLike<number>, encoding?: string): Uint8Array {
    if (typeof s !== 'string') return Uint8Array.from(s);
    if (encoding === 'base64') return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    return new TextEncoder().encode(s);
  }

  static byteLength(s: string): number {
    return new TextEncoder().encode(s).length;
  }

  static isBuffer(): boolean {
    return false;
  }
}

export { BrowserBuffer as Buffer };
