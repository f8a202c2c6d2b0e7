import * as path from 'path';
import { readCsvDataset } from '../../lib/data/csvlist';
import { DataError, UsageError } from '../../lib/errors';
import { makeTree, removeTree } from '../helpers/tree';

describe('csv dataset reader', () => {
  let root: string;
  let list: string;
  beforeAll(() => {
    root = makeTree({
      'lists/all.csv': [
        'file,label,speaker,split,note',
        'a.wav,bona-fide,s1,train,',
        'sub/b.flac,BONAFIDE,s2,train,"quoted, with comma"',
        '../audio/c.mp3,real,,dev,x',
        '/abs/d.wav,0,s1,dev,',
        'e.wav,spoof,s3,train,',
        'f.wav,Fake,s3,dev,',
        'g.wav,1,,train,',
      ].join('\n'),
      'bad_label.csv': 'file,label\nx.wav,spoof\ny.wav,maybe\n',
      'dup.csv': 'file,label\nx.wav,spoof\nz.wav,real\nx.wav,real\n',
      'empty_file.csv': 'file,label\n,spoof\n',
      'no_label.csv': 'file,class\nx.wav,spoof\n',
      'short_row.csv': 'file,label,speaker\nx.wav,spoof\n',
    });
    list = path.join(root, 'lists/all.csv');
  });
  afterAll(() => removeTree(root));

  it('reads every label word, resolves paths against the CSV folder, keeps extra columns', () => {
    const items = readCsvDataset(list);
    expect(items.map((i) => [i.id, i.label])).toEqual([
      ['a.wav', 'bona-fide'],
      ['sub/b.flac', 'bona-fide'],
      ['../audio/c.mp3', 'bona-fide'],
      ['/abs/d.wav', 'bona-fide'],
      ['e.wav', 'spoof'],
      ['f.wav', 'spoof'],
      ['g.wav', 'spoof'],
    ]);
    expect(items[1]).toEqual({
      id: 'sub/b.flac',
      path: path.join(root, 'lists/sub/b.flac'),
      label: 'bona-fide',
      speaker: 's2',
      extra: { split: 'train', note: 'quoted, with comma' },
    });
    expect(items[2].path).toBe(path.join(root, 'audio/c.mp3'));
    expect(items[2].speaker).toBeUndefined();
    expect(items[3].path).toBe('/abs/d.wav');
  });

  it('keeps only the rows of the split column when a split is given', () => {
    expect(readCsvDataset(list, { split: 'dev' }).map((i) => i.id)).toEqual(['../audio/c.mp3', '/abs/d.wav', 'f.wav']);
    expect(() => readCsvDataset(path.join(root, 'dup.csv'), { split: 'dev' })).toThrow(UsageError);
  });

  it('names the file and the row of a bad label, a repeated id or an empty file field', () => {
    expect(() => readCsvDataset(path.join(root, 'bad_label.csv'))).toThrow(`${path.join(root, 'bad_label.csv')}: row 3: label "maybe" is not one of`);
    expect(() => readCsvDataset(path.join(root, 'dup.csv'))).toThrow(/row 4: id "x.wav" repeats row 2/);
    expect(() => readCsvDataset(path.join(root, 'empty_file.csv'))).toThrow(/row 2: empty "file" field/);
    expect(() => readCsvDataset(path.join(root, 'short_row.csv'))).toThrow(/row 2 has 2 fields, the header has 3/);
  });

  it('needs the file and label columns, and the CSV itself', () => {
    expect(() => readCsvDataset(path.join(root, 'no_label.csv'))).toThrow(/missing column\(s\) label/);
    expect(() => readCsvDataset(path.join(root, 'nope.csv'))).toThrow(DataError);
    expect(() => readCsvDataset(path.join(root, 'nope.csv'))).toThrow(`${path.join(root, 'nope.csv')}: dataset CSV file not found`);
  });
});
