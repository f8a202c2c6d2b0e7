/**
 * Dataset readers, chosen by `--data KIND:PATH`. Each returns the items (id, absolute audio path, label, metadata)
 * in a stable order; files are not opened (only stat'ed, to warn of duplicates), so missing or broken audio is
 * reported per file by extraction.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError, UsageError } from '../errors';
import { readAsvspoof2019 } from './asvspoof2019';
import { readAsvspoof2021 } from './asvspoof2021';
import { readCsvDataset } from './csvlist';
import { DatasetItem, ReadOptions } from './dataset';
import { readFakeOrReal } from './fakeorreal';
import { readFolder } from './folder';
import { readInTheWild } from './inthewild';

export type { DatasetItem, Label, ReadOptions } from './dataset';
export { labelFromWord } from './dataset';
export { readAsvspoof2019, readAsvspoof2021, readCsvDataset, readFakeOrReal, readFolder, readInTheWild };

const READERS = {
  asvspoof2019: readAsvspoof2019,
  'asvspoof2021-la': (root: string, opts: ReadOptions) => readAsvspoof2021(root, 'LA', opts),
  'asvspoof2021-df': (root: string, opts: ReadOptions) => readAsvspoof2021(root, 'DF', opts),
  'in-the-wild': readInTheWild,
  fakeorreal: readFakeOrReal,
  csv: readCsvDataset,
  folder: readFolder,
} satisfies Record<string, (root: string, opts: ReadOptions) => DatasetItem[]>;

export type DataKind = keyof typeof READERS;
export const DATA_KINDS = Object.keys(READERS) as DataKind[];

export interface DataSpec {
  kind: DataKind;
  /** Absolute path of the dataset root, folder or file. */
  path: string;
}

/** `KIND:PATH` → {kind, absolute path}; the path is resolved against `cwd`. */
export function parseDataSpec(spec: string, cwd: string = process.cwd()): DataSpec {
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const where = spec.slice(colon + 1);
  if (colon < 0 || !(DATA_KINDS as string[]).includes(kind) || where === '') {
    throw new UsageError(`--data must be KIND:PATH with KIND one of ${DATA_KINDS.join(', ')} (got "${spec}")`);
  }
  return { kind: kind as DataKind, path: path.resolve(cwd, where) };
}

/**
 * Reads a dataset; a layout that yields no item at all is a DataError. `split` may list several splits
 * (`train,dev`): their items are concatenated in that order, and ids must stay unique. Items that are the same
 * file under different paths are a warning on stderr (see warnDuplicates).
 */
export function readDataset(spec: string | DataSpec, opts: ReadOptions = {}): DatasetItem[] {
  const { kind, path: root } = typeof spec === 'string' ? parseDataSpec(spec) : spec;
  const splits = opts.split?.includes(',') ? opts.split.split(',') : [opts.split];
  const items = splits.flatMap((split) => READERS[kind](root, { ...opts, split }));
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw new DataError(`id "${it.id}" appears in more than one of the splits ${opts.split}`, root);
    seen.add(it.id);
  }
  if (items.length === 0) {
    const filters = [opts.split && `split ${opts.split}`, opts.subset && `subset ${opts.subset}`].filter(Boolean).join(', ');
    throw new DataError(`no audio items in this ${kind} dataset${filters ? ` (${filters})` : ''}`, root);
  }
  warnDuplicates(items, root);
  return items;
}

/**
 * The same file listed twice (a symlink, a hard link, `a/../a/x.wav`) is a warning, not an error: both items are
 * kept, but that recording then counts twice in training, or sits on both sides of a split. Files are told apart
 * by device and inode, which also catches hard links; files that cannot be stat'ed are left to extraction to report.
 */
function warnDuplicates(items: DatasetItem[], root: string): void {
  const first = new Map<string, DatasetItem>();
  const repeats: string[] = [];
  for (const item of items) {
    let stats: fs.BigIntStats;
    try {
      stats = fs.statSync(item.path, { bigint: true });
    } catch {
      continue;
    }
    if (stats.ino === 0n) continue; // a filesystem without inode numbers
    const key = `${stats.dev}:${stats.ino}`;
    const seen = first.get(key);
    if (seen) repeats.push(`"${item.id}" = "${seen.id}"`);
    else first.set(key, item);
  }
  if (repeats.length === 0) return;
  const examples = repeats.slice(0, 3).join(', ') + (repeats.length > 3 ? ', …' : '');
  const count = repeats.length === 1 ? '1 item repeats an audio file' : `${repeats.length} items repeat audio files`;
  process.stderr.write(
    `wavprobe: warning: ${root}: ${count} listed earlier under another path (${examples}); each is kept, so such a recording counts more than once\n`,
  );
}
