/**
 * Fake-or-Real (FoR, Reimao & Tzerpos 2019): `<dir>/<split>/{real,fake}/*.wav`, the splits being named
 * `training`, `validation`, `testing` in the release; `train`, `dev`, `eval`/`test` are accepted for them when no
 * folder of that exact name exists. Without a split, `<dir>/{real,fake}`. Files directly in the label folders;
 * the id is `real/<name>` or `fake/<name>`.
 */
import { DatasetItem, Label, ReadOptions, rejectOption, splitDir } from './dataset';
import { readLabelFolders } from './folder';
import { BONA_FIDE, SPOOF } from './labels';

const SPLIT_ALIASES: Record<string, string> = { train: 'training', dev: 'validation', eval: 'testing', test: 'testing' };
const FOLDERS: Record<string, Label> = { real: BONA_FIDE, fake: SPOOF };

export function readFakeOrReal(dir: string, opts: ReadOptions = {}): DatasetItem[] {
  rejectOption('fakeorreal', opts, 'subset');
  const labelOf = (name: string) => (Object.hasOwn(FOLDERS, name) ? FOLDERS[name] : undefined);
  return readLabelFolders(splitDir(dir, opts.split, SPLIT_ALIASES), labelOf, { recursive: false, expected: 'real, fake' });
}
