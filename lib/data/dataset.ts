/**
 * What every dataset reader returns, and the small pieces the readers share: label words, protocol lines,
 * directory scans, the unique-id check. Readers only list files; whether the audio exists or decodes is for
 * extraction to report, per file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileNameFromBytes, pathBytes } from '../audio/names';
import { DataError, UsageError } from '../errors';
import { BONA_FIDE, SPOOF } from './labels';

export type Label = typeof BONA_FIDE | typeof SPOOF;

export interface DatasetItem {
  /** Unique within one read and stable across reads: the feature-store row id. */
  id: string;
  /** Absolute path of the audio file. */
  path: string;
  label: Label;
  speaker?: string;
  /** Attack / spoofing system id (ASVspoof `A07`, …); absent for bona fide. */
  attack?: string;
  /** Further metadata columns, kept verbatim. */
  extra?: Record<string, string>;
}

export interface ReadOptions {
  /** Partition: required for asvspoof2019 (train|dev|eval); a subfolder for folder layouts; see each reader. */
  split?: string;
  /** ASVspoof 2021 only: keep rows of this subset column value (eval|progress|hidden). Default: all rows. */
  subset?: string;
}

export const AUDIO_EXTENSIONS = ['.wav', '.flac', '.mp3'];

const LABEL_WORDS: Record<string, Label> = {
  'bona-fide': BONA_FIDE,
  bonafide: BONA_FIDE,
  real: BONA_FIDE,
  '0': BONA_FIDE,
  spoof: SPOOF,
  fake: SPOOF,
  '1': SPOOF,
};

/** bona-fide/bonafide/real/0 → bona-fide, spoof/fake/1 → spoof (case-insensitive); anything else is undefined. */
export function labelFromWord(word: string): Label | undefined {
  const key = word.trim().toLowerCase();
  return Object.hasOwn(LABEL_WORDS, key) ? LABEL_WORDS[key] : undefined;
}

/** Like labelFromWord, but a DataError naming the file and where in it (`line 7`, `row 3`). */
export function parseLabel(word: string, file: string, where: string): Label {
  const label = labelFromWord(word);
  if (!label) throw new DataError(`${where}: label "${word}" is not one of bona-fide, bonafide, real, 0, spoof, fake, 1`, file);
  return label;
}

/** An ASVspoof protocol key (`bonafide` | `spoof`, exactly) → label; anything else is a DataError naming the line. */
export function parseAsvspoofKey(key: string, file: string, line: number): Label {
  if (key === 'bonafide') return BONA_FIDE;
  if (key === 'spoof') return SPOOF;
  throw new DataError(`line ${line}: key "${key}" is neither "bonafide" nor "spoof"`, file);
}

/** The file a layout cannot do without; its absence is a DataError naming the path. */
export function requireFile(file: string, what: string): string {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new DataError(`${what} not found`, file);
  return file;
}

export function requireDir(dir: string, what: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new DataError(`${what} not found`, dir);
  return dir;
}

/** Whitespace-separated protocol lines with their 1-based line numbers; blank lines are skipped. */
export function protocolLines(file: string): { line: number; cols: string[] }[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((text, i) => ({ line: i + 1, cols: text.trim().split(/\s+/) }))
    .filter((l) => l.cols[0] !== '');
}

/**
 * Absolute paths of the audio files in `dir` (wav, flac, mp3; any case), sorted by code point for a stable order.
 * Names are read as bytes: one that is not valid UTF-8 is kept escaped (lib/audio/names.ts), and that file's
 * extraction error shows the bytes.
 */
export function listAudio(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(pathBytes(d), { withFileTypes: true, encoding: 'buffer' })) {
      const name = fileNameFromBytes(e.name);
      const p = path.join(d, name);
      if (e.isDirectory() && recursive) walk(p);
      else if (e.isFile() && AUDIO_EXTENSIONS.includes(path.extname(name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A path relative to `root` with forward slashes: the id of a file found by scanning a folder. */
export function relativeId(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** Throws if two items share an id; `where(i)` names the i-th item's origin (e.g. its protocol line). */
export function assertUniqueIds(items: DatasetItem[], file: string, where: (i: number) => string): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const first = seen.get(item.id);
    if (first !== undefined) throw new DataError(`${where(i)}: id "${item.id}" repeats ${where(first)}`, file);
    seen.set(item.id, i);
  });
}

/** `<dir>/<split>` when a split is given (which must then exist, or its alias), else `dir`. */
export function splitDir(dir: string, split: string | undefined, aliases: Record<string, string> = {}): string {
  requireDir(dir, 'dataset folder');
  if (split === undefined) return dir;
  const direct = path.join(dir, split);
  if (fs.existsSync(direct)) return direct;
  const alias = Object.hasOwn(aliases, split) ? aliases[split] : undefined;
  if (alias && fs.existsSync(path.join(dir, alias))) return path.join(dir, alias);
  throw new DataError(`split folder "${split}" not found${alias ? ` (nor "${alias}")` : ''}`, dir);
}

export function rejectOption(kind: string, opts: ReadOptions, name: keyof ReadOptions): void {
  if (opts[name] !== undefined) throw new UsageError(`--${name} does not apply to ${kind} datasets`);
}
