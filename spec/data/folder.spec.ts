import * as path from 'path';
import { readFolder } from '../../lib/data/folder';
import { DataError } from '../../lib/errors';
import { makeTree, removeTree } from '../helpers/tree';

describe('folder reader', () => {
  let root: string;
  beforeAll(() => {
    root = makeTree({
      'ds/bona-fide/b.wav': '',
      'ds/bona-fide/a.FLAC': '',
      'ds/bona-fide/notes.txt': '',
      'ds/Spoof/tts/x/1.mp3': '',
      'ds/Spoof/0.wav': '',
      'ds/real/r.wav': '',
      'ds/other/o.wav': '',
      'ds/1/n.wav': '',
      'split/dev/fake/f.wav': '',
      'nolabels/audio/a.wav': '',
    });
  });
  afterAll(() => removeTree(root));

  it('reads label folders recursively, audio files only, ids relative to the dataset folder', () => {
    const dir = path.join(root, 'ds');
    expect(readFolder(dir)).toEqual([
      { id: 'Spoof/0.wav', path: path.join(dir, 'Spoof/0.wav'), label: 'spoof' },
      { id: 'Spoof/tts/x/1.mp3', path: path.join(dir, 'Spoof/tts/x/1.mp3'), label: 'spoof' },
      { id: 'bona-fide/a.FLAC', path: path.join(dir, 'bona-fide/a.FLAC'), label: 'bona-fide' },
      { id: 'bona-fide/b.wav', path: path.join(dir, 'bona-fide/b.wav'), label: 'bona-fide' },
      { id: 'real/r.wav', path: path.join(dir, 'real/r.wav'), label: 'bona-fide' },
    ]);
  });

  it('reads <dir>/<split> when a split is given', () => {
    expect(readFolder(path.join(root, 'split'), { split: 'dev' }).map((i) => [i.id, i.label])).toEqual([['fake/f.wav', 'spoof']]);
  });

  it('is a DataError when there is no label folder or no folder at all', () => {
    expect(() => readFolder(path.join(root, 'nolabels'))).toThrow(`${path.join(root, 'nolabels')}: no label subfolder`);
    expect(() => readFolder(path.join(root, 'missing'))).toThrow(DataError);
    expect(() => readFolder(path.join(root, 'missing'))).toThrow(/dataset folder not found/);
  });
});
