/**
 * `csv:<file.csv>`: a list with at least the columns `file` and `label`. `file` is relative to the CSV's folder
 * (or absolute) and is the id; `label` accepts bona-fide/bonafide/real/0 and spoof/fake/1 (any case). Optional
 * `speaker` and `attack` columns fill those fields; every other column is kept in `extra`. With a split given,
 * the CSV must have a `split` column and only its matching rows are read.
 */
import * as path from 'path';
import { DataError, UsageError } from '../errors';
import { readCsv } from './csv';
import { DatasetItem, ReadOptions, assertUniqueIds, parseLabel, rejectOption, requireFile } from './dataset';

const OWN_COLUMNS = ['file', 'label', 'speaker', 'attack'];

export function readCsvDataset(file: string, opts: ReadOptions = {}, required: string[] = ['file', 'label']): DatasetItem[] {
  rejectOption('csv', opts, 'subset');
  const { header, rows } = readCsv(requireFile(file, 'dataset CSV file'), required);
  const dir = path.dirname(file);
  const numbered = rows.map((row, i) => ({ row, where: `row ${i + 2}` })); // row 1 is the header
  let kept = numbered;
  if (opts.split !== undefined) {
    if (!header.includes('split')) throw new UsageError(`--split ${opts.split} needs a "split" column in ${file}`);
    kept = numbered.filter(({ row }) => row.split === opts.split);
  }
  const extraColumns = header.filter((h) => !OWN_COLUMNS.includes(h));
  const items = kept.map(({ row, where }): DatasetItem => {
    if (row.file.trim() === '') throw new DataError(`${where}: empty "file" field`, file);
    const id = row.file.replace(/\\/g, '/');
    const item: DatasetItem = { id, path: path.resolve(dir, id), label: parseLabel(row.label, file, where) };
    if (row.speaker) item.speaker = row.speaker;
    if (row.attack) item.attack = row.attack;
    if (extraColumns.length) item.extra = Object.fromEntries(extraColumns.map((h) => [h, row[h]]));
    return item;
  });
  assertUniqueIds(items, file, (i) => kept[i].where);
  return items;
}
