/**
 * Loads the WebAssembly FLAC and MPEG decoders (eshaz/wasm-audio-decoders).
 *
 * Both packages are ESM-only ("type": "module"), which this CommonJS project cannot `require` under Jest or
 * Node < 20.19. Each also ships a self-contained UMD bundle of the same version (dist/*.min.js); we evaluate that
 * with a CommonJS wrapper, which works the same in Node and Jest. Loaded once per process, on first use.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FLACDecoder as FlacDecoderClass } from '@wasm-audio-decoders/flac';
import type { MPEGDecoder as MpegDecoderClass } from 'mpg123-decoder';

const cache = new Map<string, unknown>();

function loadUmd<T>(pkg: string, bundle: string): T {
  if (!cache.has(pkg)) {
    const file = path.join(path.dirname(require.resolve(pkg)), bundle);
    const module = { exports: {} };
    new Function('exports', 'module', 'require', fs.readFileSync(file, 'utf8'))(module.exports, module, require);
    cache.set(pkg, module.exports);
  }
  return cache.get(pkg) as T;
}

export function flacDecoderClass(): typeof FlacDecoderClass {
  return loadUmd<{ FLACDecoder: typeof FlacDecoderClass }>('@wasm-audio-decoders/flac', 'dist/flac-decoder.min.js').FLACDecoder;
}

export function mpegDecoderClass(): typeof MpegDecoderClass {
  return loadUmd<{ MPEGDecoder: typeof MpegDecoderClass }>('mpg123-decoder', 'dist/mpg123-decoder.min.js').MPEGDecoder;
}

/**
 * Runs a decoder call with console.error/warn captured instead of printed. The decoders report each stream
 * error there; it is also our only source for them, since the minified bundles rename the `errors` field of
 * their results. We report errors ourselves, one line per file.
 */
export async function captureConsole<T>(fn: () => T | Promise<T>): Promise<{ value: T; messages: string[] }> {
  const { error, warn } = console;
  const messages: string[] = [];
  console.error = console.warn = (...parts: unknown[]) => messages.push(parts.map(String).join(' ').replace(/\s+/g, ' ').trim());
  try {
    return { value: await fn(), messages };
  } finally {
    console.error = error;
    console.warn = warn;
  }
}
