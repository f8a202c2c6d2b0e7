/**
 * ASVspoof 2019 LA: `<root>/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt`,
 * five space-separated columns `speaker file_id - system key` (system `-` for bona fide, key bonafide|spoof),
 * audio at `<root>/ASVspoof2019_LA_<split>/flac/<file_id>.flac`. The id is the file id (LA_T_…, LA_D_…, LA_E_…);
 * `attack` is the system column (A01…A19), on spoof rows only.
 */
import * as path from 'path';
import { DataError, UsageError } from '../errors';
import { DatasetItem, ReadOptions, assertUniqueIds, parseAsvspoofKey, protocolLines, rejectOption, requireFile } from './dataset';
import { SPOOF } from './labels';

const PROTOCOLS: Record<string, string> = { train: 'train.trn', dev: 'dev.trl', eval: 'eval.trl' };

export function protocolFile2019(root: string, split: string): string {
  return path.join(root, 'ASVspoof2019_LA_cm_protocols', `ASVspoof2019.LA.cm.${PROTOCOLS[split]}.txt`);
}

export function readAsvspoof2019(root: string, opts: ReadOptions = {}): DatasetItem[] {
  const split = opts.split;
  if (split === undefined || !Object.hasOwn(PROTOCOLS, split)) {
    throw new UsageError(`asvspoof2019 needs --split train, dev or eval${split === undefined ? '' : ` (got "${split}")`}`);
  }
  rejectOption('asvspoof2019', opts, 'subset');
  const file = requireFile(protocolFile2019(root, split), 'ASVspoof 2019 LA protocol file');
  const audioDir = path.join(root, `ASVspoof2019_LA_${split}`, 'flac');
  const lines = protocolLines(file);
  const items = lines.map(({ line, cols }): DatasetItem => {
    if (cols.length !== 5) {
      throw new DataError(`line ${line}: expected 5 columns (speaker file_id - system key), got ${cols.length}`, file);
    }
    const [speaker, id, , system, key] = cols;
    const label = parseAsvspoofKey(key, file, line);
    const item: DatasetItem = { id, path: path.join(audioDir, `${id}.flac`), label, speaker };
    if (label === SPOOF) item.attack = system;
    return item;
  });
  assertUniqueIds(items, file, (i) => `line ${lines[i].line}`);
  return items;
}
