import * as fs from 'fs';
import * as path from 'path';
import { loadAudio } from '../../lib/audio';
import { readFolder } from '../../lib/data/folder';
import { AudioDecodeError, DataError } from '../../lib/errors';
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

  it('lists a file or folder whose name is not valid UTF-8, and loading it names the bytes', async () => {
    const dir = makeTree({ 'real/ok.wav': '', 'fake/ok.wav': '' });
    try {
      const raw = (rel: string) => Buffer.concat([Buffer.from(dir), Buffer.from(rel, 'latin1')]); // one byte per char
      fs.copyFileSync(path.join(__dirname, '../fixtures/audio/digit-8k.wav'), raw('/real/caf\xe9.wav')); // Latin-1 "café.wav"
      fs.mkdirSync(raw('/fake/\xff\xfe'));
      fs.writeFileSync(raw('/fake/\xff\xfe/x.wav'), '');
      const items = readFolder(dir);
      expect(items.map((i) => i.id)).toEqual(['fake/ok.wav', 'fake/\udcff\udcfe/x.wav', 'real/caf\udce9.wav', 'real/ok.wav']);
      const reasons = await Promise.all(
        items.filter((i) => /[\udc80-\udcff]/.test(i.id)).map((i) => loadAudio(i.path).catch((e: AudioDecodeError) => e.reason)),
      );
      expect(reasons).toEqual(["folder name is not valid UTF-8: b'\\xff\\xfe'", "file name is not valid UTF-8: b'caf\\xe9.wav'"]);
    } finally {
      removeTree(dir);
    }
  });
});
