import * as path from 'path';
import { readInTheWild } from '../../lib/data/inthewild';
import { DataError } from '../../lib/errors';
import { makeTree, removeTree } from '../helpers/tree';

describe('in-the-wild reader', () => {
  let root: string;
  beforeAll(() => {
    root = makeTree({
      // The release's header and label words; a speaker name with a comma is quoted.
      'release_in_the_wild/meta.csv':
        'file,speaker,label\n0.wav,Alec Guinness,spoof\n1.wav,"Obama, Barack",bona-fide\n2.wav,Alec Guinness,bona-fide\n',
      'release_in_the_wild/0.wav': '',
      'bad/meta.csv': 'file,speaker,label\n0.wav,A,spoof\n1.wav,B,human\n',
      'nospeaker/meta.csv': 'file,label\n0.wav,spoof\n',
      'splits/train/meta.csv': 'file,speaker,label\n0000.wav,george,bona-fide\n',
    });
  });
  afterAll(() => removeTree(root));

  it('reads meta.csv: file as id, speaker, label, audio next to it', () => {
    const dir = path.join(root, 'release_in_the_wild');
    expect(readInTheWild(dir)).toEqual([
      { id: '0.wav', path: path.join(dir, '0.wav'), label: 'spoof', speaker: 'Alec Guinness' },
      { id: '1.wav', path: path.join(dir, '1.wav'), label: 'bona-fide', speaker: 'Obama, Barack' },
      { id: '2.wav', path: path.join(dir, '2.wav'), label: 'bona-fide', speaker: 'Alec Guinness' },
    ]);
  });

  it('looks in <dir>/<split> when a split is given', () => {
    expect(readInTheWild(path.join(root, 'splits'), { split: 'train' })).toEqual([
      { id: '0000.wav', path: path.join(root, 'splits/train/0000.wav'), label: 'bona-fide', speaker: 'george' },
    ]);
    expect(() => readInTheWild(path.join(root, 'splits'), { split: 'dev' })).toThrow(/split folder "dev" not found/);
  });

  it('names meta.csv and the row of a bad label; needs the speaker column and meta.csv', () => {
    expect(() => readInTheWild(path.join(root, 'bad'))).toThrow(`${path.join(root, 'bad/meta.csv')}: row 3: label "human"`);
    expect(() => readInTheWild(path.join(root, 'nospeaker'))).toThrow(/missing column\(s\) speaker/);
    expect(() => readInTheWild(path.join(root, 'splits'))).toThrow(DataError);
    expect(() => readInTheWild(path.join(root, 'splits'))).toThrow(`${path.join(root, 'splits/meta.csv')}: dataset CSV file not found`);
  });
});
