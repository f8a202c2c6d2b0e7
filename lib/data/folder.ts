/**
 * `folder:<dir>`: one subfolder per label — `bona-fide`, `bonafide` or `real`; `spoof` or `fake` (any case) —
 * holding audio files (wav, flac, mp3) at any depth. Other subfolders are ignored. The id is the path relative to
 * the dataset folder (`spoof/a/b.wav`). With a split given, the label folders are looked for in `<dir>/<split>/`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../errors';
import { DatasetItem, Label, ReadOptions, labelFromWord, listAudio, rejectOption, relativeId, requireDir, splitDir } from './dataset';

/** Items from the label subfolders of `root` that `labelOf` names, in folder-name then file-path order. */
export function readLabelFolders(
  root: string,
  labelOf: (name: string) => Label | undefined,
  opts: { recursive: boolean; expected: string },
): DatasetItem[] {
  requireDir(root, 'dataset folder');
  const folders = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && labelOf(e.name) !== undefined)
    .map((e) => e.name)
    .sort();
  if (folders.length === 0) throw new DataError(`no label subfolder (${opts.expected}) found`, root);
  return folders.flatMap((name) => {
    const label = labelOf(name)!;
    return listAudio(path.join(root, name), opts.recursive).map((file) => ({ id: relativeId(root, file), path: file, label }));
  });
}

// The CSV label words 0/1 are not folder labels: numbered folders are more often speakers or chapters.
const isDigit = (name: string): boolean => /^\d+$/.test(name);

export function readFolder(dir: string, opts: ReadOptions = {}): DatasetItem[] {
  rejectOption('folder', opts, 'subset');
  return readLabelFolders(splitDir(dir, opts.split), (name) => (isDigit(name) ? undefined : labelFromWord(name)), {
    recursive: true,
    expected: 'bona-fide, bonafide or real; spoof or fake',
  });
}
