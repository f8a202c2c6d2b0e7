/**
 * File names that are not valid UTF-8. Paths are JavaScript strings here, and Node decodes such a name with U+FFFD
 * in place of its bad bytes: a name that no file has, so the file reads as "no such file". Decision: these files
 * are refused, with their name shown as bytes, rather than read: ids, stores and reports are UTF-8 text, where the
 * name could not be written back, and two such names can decode alike.
 * - Folder listings read names as bytes; a name that is not UTF-8 keeps each byte ≥ 0x80 as U+DC80 + byte
 *   (Python's "surrogateescape": lone surrogates, which no UTF-8 name decodes to), so that the file's own error
 *   can show its bytes (`file name is not valid UTF-8: b'caf\xe9.wav'`) and the listing can descend into such a folder.
 * - A path that reaches us already decoded (command line, CSV) has lost its bytes: when it holds U+FFFD and does not
 *   exist, its error says that the name was probably not valid UTF-8.
 */
import * as path from 'path';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ESCAPED = /[\udc80-\udcff]/;

/** A directory entry's name: decoded when it is UTF-8, else its bytes ≥ 0x80 as U+DC80 + byte. */
export function fileNameFromBytes(name: Uint8Array): string {
  try {
    return utf8.decode(name);
  } catch {
    return String.fromCharCode(...Array.from(name, (b) => (b < 0x80 ? b : 0xdc00 + b)));
  }
}

/** The bytes of a path that may hold names from fileNameFromBytes, for fs calls. */
export function pathBytes(p: string): Buffer {
  if (!ESCAPED.test(p)) return Buffer.from(p);
  return Buffer.concat(Array.from(p, (ch) => (ESCAPED.test(ch) ? Buffer.of(ch.charCodeAt(0) - 0xdc00) : Buffer.from(ch))));
}

/** `file name is not valid UTF-8: b'…'` (or `folder name`) when a part of `p` came from a name that is not UTF-8. */
export function nonUtf8Name(p: string): string | undefined {
  const parts = p.split(path.sep);
  const i = parts.findIndex((part) => ESCAPED.test(part));
  if (i < 0) return undefined;
  const literal = Array.from(pathBytes(parts[i]), (b) =>
    b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`,
  );
  return `${i === parts.length - 1 ? 'file' : 'folder'} name is not valid UTF-8: b'${literal.join('')}'`;
}
