/**
 * ASVspoof 2021 LA and DF evaluation data with the released keys (eval phase only).
 * Keys: `<root>/keys/CM/trial_metadata.txt`, or `<root>/keys/<LA|DF>/CM/trial_metadata.txt` as the
 * LA-/DF-keys-full tarballs unpack. Columns, as in the organisers' eval-package (config.py):
 *   LA (8):  speaker trial codec transmission attack key trim subset
 *            e.g. `LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval`
 *   DF (13): speaker trial codec source attack key trim subset vocoder task team gender-pair language
 *            e.g. `LA_0023 DF_E_2000011 nocodec asvspoof A14 spoof notrim progress traditional_vocoder - - - -`
 * Audio: `<root>/ASVspoof2021_<LA|DF>_eval/flac/<trial>.flac`. The id is the trial id; `attack` is set on spoof rows
 * only. Columns other than speaker, trial, attack and key go to `extra` (values `-` are left out); `subset`
 * filters on the subset column.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError, UsageError } from '../errors';
import { DatasetItem, ReadOptions, assertUniqueIds, parseAsvspoofKey, protocolLines } from './dataset';
import { SPOOF } from './labels';

export type Track2021 = 'LA' | 'DF';

const COLUMNS: Record<Track2021, string[]> = {
  LA: ['speaker', 'trial', 'codec', 'transmission', 'attack', 'key', 'trim', 'subset'],
  DF: [...['speaker', 'trial', 'codec', 'source', 'attack', 'key', 'trim', 'subset'], ...['vocoder', 'task', 'team', 'gender-pair', 'language']],
};
/** Speaker … subset: present in both tracks; DF's trailing analysis columns may be absent. */
const CORE_COLUMNS = 8;
const OWN_FIELDS = ['speaker', 'trial', 'attack', 'key'];
export const SUBSETS_2021 = ['eval', 'progress', 'hidden'];

/** The keys file that exists (flat `keys/CM/` first); a DataError listing both places when neither does. */
export function keysFile2021(root: string, track: Track2021): string {
  const candidates = [path.join(root, 'keys', 'CM', 'trial_metadata.txt'), path.join(root, 'keys', track, 'CM', 'trial_metadata.txt')];
  const found = candidates.find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
  if (!found) {
    throw new DataError(`ASVspoof 2021 ${track} keys not found (expected ${candidates.join(' or ')})`, root);
  }
  return found;
}

export function readAsvspoof2021(root: string, track: Track2021, opts: ReadOptions = {}): DatasetItem[] {
  const kind = `asvspoof2021-${track.toLowerCase()}`;
  if (opts.split !== undefined && opts.split !== 'eval') {
    throw new UsageError(`${kind} has only the eval split (got --split ${opts.split})`);
  }
  if (opts.subset !== undefined && !SUBSETS_2021.includes(opts.subset)) {
    throw new UsageError(`${kind}: --subset must be one of ${SUBSETS_2021.join(', ')} (got "${opts.subset}")`);
  }
  const file = keysFile2021(root, track);
  const names = COLUMNS[track];
  const audioDir = path.join(root, `ASVspoof2021_${track}_eval`, 'flac');
  const rows = protocolLines(file).map(({ line, cols }) => {
    if (cols.length < CORE_COLUMNS || cols.length > names.length) {
      const expected = names.length === CORE_COLUMNS ? `${CORE_COLUMNS}` : `${CORE_COLUMNS} to ${names.length}`;
      throw new DataError(`line ${line}: expected ${expected} columns (${names.join(' ')}), got ${cols.length}`, file);
    }
    const row = Object.fromEntries(cols.map((c, j) => [names[j], c]));
    return { line, row, label: parseAsvspoofKey(row.key, file, line) };
  });
  const kept = opts.subset === undefined ? rows : rows.filter((r) => r.row.subset === opts.subset);
  const items = kept.map(({ row, label }): DatasetItem => {
    const audio = path.join(audioDir, `${row.trial}.flac`);
    const item: DatasetItem = { id: row.trial, path: audio, label, speaker: row.speaker };
    if (label === SPOOF) item.attack = row.attack; // bona fide rows carry `-` or `bonafide` there
    const extra = Object.keys(row).filter((n) => !OWN_FIELDS.includes(n) && row[n] !== '-');
    item.extra = Object.fromEntries(extra.map((n) => [n, row[n]]));
    return item;
  });
  assertUniqueIds(items, file, (i) => `line ${kept[i].line}`);
  return items;
}
