import * as fs from 'fs';
import * as path from 'path';
import { DATA_KINDS, parseDataSpec, readDataset } from '../../lib/data';
import { readCsv } from '../../lib/data/csv';
import { DataError, UsageError } from '../../lib/errors';
import { makeTree, removeTree } from '../helpers/tree';

const REPO = path.join(__dirname, '..', '..');
const DIGITS = path.join(REPO, 'data', 'digits-spoof');

describe('parseDataSpec', () => {
  it('splits KIND:PATH at the first colon and resolves the path', () => {
    expect(parseDataSpec('in-the-wild:data/x', '/base')).toEqual({ kind: 'in-the-wild', path: '/base/data/x' });
    expect(parseDataSpec('csv:/abs/a:b.csv', '/base')).toEqual({ kind: 'csv', path: '/abs/a:b.csv' });
    expect(parseDataSpec('asvspoof2021-df:DF', '/base').kind).toBe('asvspoof2021-df');
  });

  it('rejects an unknown kind, a missing colon or an empty path, listing the kinds', () => {
    for (const bad of ['asvspoof2017:x', 'data/x', 'folder:', ':x']) {
      expect(() => parseDataSpec(bad)).toThrow(UsageError);
    }
    expect(() => parseDataSpec('wild:x')).toThrow(`KIND one of ${DATA_KINDS.join(', ')} (got "wild:x")`);
  });
});

describe('readDataset', () => {
  it('dispatches on the kind', () => {
    const root = makeTree({ 'spoof/a.wav': '', 'bona-fide/b.wav': '' });
    try {
      expect(readDataset({ kind: 'folder', path: root }).map((i) => i.id)).toEqual(['bona-fide/b.wav', 'spoof/a.wav']);
      expect(readDataset(`folder:${root}`)).toHaveLength(2);
    } finally {
      removeTree(root);
    }
  });

  it('is a DataError when a layout yields no item', () => {
    const root = makeTree({ 'keys/CM/trial_metadata.txt': 'LA_0009 LA_E_1 alaw ita_tx A07 spoof notrim eval\n', 'spoof/readme.txt': '' });
    try {
      expect(() => readDataset({ kind: 'asvspoof2021-la', path: root }, { subset: 'hidden' })).toThrow(
        `${root}: no audio items in this asvspoof2021-la dataset (subset hidden)`,
      );
      expect(() => readDataset({ kind: 'folder', path: root })).toThrow(DataError);
    } finally {
      removeTree(root);
    }
  });

  it('reads the digits-spoof demo set with in-the-wild:data/digits-spoof/train', () => {
    const items = readDataset(parseDataSpec('in-the-wild:data/digits-spoof/train', REPO));
    const meta = readCsv(path.join(DIGITS, 'train', 'meta.csv')).rows;
    expect(items).toHaveLength(meta.length);
    expect(items.map((i) => [i.id, i.speaker, i.label])).toEqual(meta.map((r) => [r.file, r.speaker, r.label]));
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    expect(items.every((i) => path.isAbsolute(i.path) && fs.existsSync(i.path))).toBe(true);
    expect(items.filter((i) => i.label === 'spoof').length).toBeGreaterThan(0);
    expect(items.filter((i) => i.label === 'bona-fide').length).toBeGreaterThan(0);
  });

  it('reads the same digits-spoof split through csv:details.csv with --split', () => {
    const viaCsv = readDataset(parseDataSpec('csv:data/digits-spoof/details.csv', REPO), { split: 'dev' });
    const viaWild = readDataset(parseDataSpec('in-the-wild:data/digits-spoof', REPO), { split: 'dev' });
    expect(viaCsv.map((i) => [i.path, i.label, i.speaker])).toEqual(viaWild.map((i) => [i.path, i.label, i.speaker]));
    expect(viaCsv[0].extra).toHaveProperty('engine');
  });

  it('concatenates several splits in order (--split train,dev) and refuses ids that collide', () => {
    const both = readDataset(parseDataSpec('csv:data/digits-spoof/details.csv', REPO), { split: 'train,dev' });
    const train = readDataset(parseDataSpec('csv:data/digits-spoof/details.csv', REPO), { split: 'train' });
    const dev = readDataset(parseDataSpec('csv:data/digits-spoof/details.csv', REPO), { split: 'dev' });
    expect(both.map((i) => i.id)).toEqual([...train, ...dev].map((i) => i.id));
    // In-the-wild ids are file names, and 0000.wav exists in both splits.
    expect(() => readDataset(parseDataSpec('in-the-wild:data/digits-spoof', REPO), { split: 'train,dev' })).toThrow(
      /id "0000.wav" appears in more than one of the splits train,dev/,
    );
  });

  describe('the same audio file under two paths', () => {
    let root: string;
    let stderr: jest.SpyInstance;
    beforeEach(() => {
      root = makeTree({ 'a.wav': 'x', 'b.wav': 'y', 'sub/c.wav': 'z' });
      stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    });
    afterEach(() => {
      stderr.mockRestore();
      removeTree(root);
    });
    const warnings = () => stderr.mock.calls.map(([text]) => String(text));

    it('is one warning per read, with the count and examples, not an error', () => {
      fs.symlinkSync(path.join(root, 'a.wav'), path.join(root, 'link.wav'));
      fs.linkSync(path.join(root, 'sub/c.wav'), path.join(root, 'hard.wav'));
      const csv =
        'file,label\na.wav,bona-fide\nb.wav,spoof\nsub/../a.wav,spoof\nlink.wav,spoof\nsub/c.wav,spoof\nhard.wav,spoof\nmissing.wav,spoof\n';
      fs.writeFileSync(path.join(root, 'list.csv'), csv);
      expect(readDataset({ kind: 'csv', path: path.join(root, 'list.csv') })).toHaveLength(7);
      expect(warnings()).toEqual([
        `wavprobe: warning: ${path.join(root, 'list.csv')}: 3 items repeat audio files listed earlier under another path ` +
          '("sub/../a.wav" = "a.wav", "link.wav" = "a.wav", "hard.wav" = "sub/c.wav"); each is kept, so such a recording counts more than once\n',
      ]);
    });

    it('is found across the label folders of a folder dataset too (a hard link)', () => {
      fs.mkdirSync(path.join(root, 'real'));
      fs.mkdirSync(path.join(root, 'fake'));
      fs.writeFileSync(path.join(root, 'real/x.wav'), 'x');
      fs.linkSync(path.join(root, 'real/x.wav'), path.join(root, 'fake/y.wav'));
      readDataset({ kind: 'folder', path: root });
      expect(warnings()).toEqual([
        expect.stringContaining('1 item repeats an audio file listed earlier under another path ("real/x.wav" = "fake/y.wav")'),
      ]);
    });

    it('says nothing when every file is listed once', () => {
      fs.writeFileSync(path.join(root, 'list.csv'), 'file,label\na.wav,bona-fide\nb.wav,spoof\nmissing.wav,spoof\n');
      readDataset({ kind: 'csv', path: path.join(root, 'list.csv') });
      expect(warnings()).toEqual([]);
    });
  });
});
