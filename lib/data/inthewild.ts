/**
 * In-the-Wild (Müller et al. 2022): `<dir>/meta.csv` with `file,speaker,label` (label `bona-fide` | `spoof`),
 * audio next to it. Read like `csv:` with a required speaker column; the id is the `file` field. With a split
 * given, the layout is looked for in `<dir>/<split>/` (as the digits-spoof demo set is laid out).
 */
import * as path from 'path';
import { readCsvDataset } from './csvlist';
import { DatasetItem, ReadOptions, rejectOption, splitDir } from './dataset';

export function readInTheWild(dir: string, opts: ReadOptions = {}): DatasetItem[] {
  rejectOption('in-the-wild', opts, 'subset');
  return readCsvDataset(path.join(splitDir(dir, opts.split), 'meta.csv'), {}, ['file', 'speaker', 'label']);
}
