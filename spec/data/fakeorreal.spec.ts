import * as path from 'path';
import { readFakeOrReal } from '../../lib/data/fakeorreal';
import { DataError } from '../../lib/errors';
import { makeTree, removeTree } from '../helpers/tree';

describe('fakeorreal reader', () => {
  let root: string;
  beforeAll(() => {
    root = makeTree({
      'for-norm/training/real/file1.wav_16k.wav_norm.wav': '',
      'for-norm/training/fake/file1.wav_16k.wav_norm.wav': '', // same name in both classes: ids keep the folder
      'for-norm/training/fake/nested/ignored.wav': '',
      'for-norm/validation/real/v.wav': '',
      'for-norm/testing/fake/t.wav': '',
      'flat/real/a.wav': '',
      'flat/fake/b.wav': '',
    });
  });
  afterAll(() => removeTree(root));

  it('reads <dir>/<split>/{real,fake} with the release split names', () => {
    const dir = path.join(root, 'for-norm');
    expect(readFakeOrReal(dir, { split: 'training' })).toEqual([
      { id: 'fake/file1.wav_16k.wav_norm.wav', path: path.join(dir, 'training/fake/file1.wav_16k.wav_norm.wav'), label: 'spoof' },
      { id: 'real/file1.wav_16k.wav_norm.wav', path: path.join(dir, 'training/real/file1.wav_16k.wav_norm.wav'), label: 'bona-fide' },
    ]);
  });

  it('accepts train/dev/eval/test for training/validation/testing', () => {
    const dir = path.join(root, 'for-norm');
    expect(readFakeOrReal(dir, { split: 'train' })).toHaveLength(2);
    expect(readFakeOrReal(dir, { split: 'dev' }).map((i) => i.path)).toEqual([path.join(dir, 'validation/real/v.wav')]);
    expect(readFakeOrReal(dir, { split: 'eval' }).map((i) => i.label)).toEqual(['spoof']);
    expect(readFakeOrReal(dir, { split: 'test' }).map((i) => i.label)).toEqual(['spoof']);
    expect(() => readFakeOrReal(dir, { split: 'holdout' })).toThrow(DataError);
  });

  it('reads <dir>/{real,fake} without a split; nothing else counts as a label folder', () => {
    expect(readFakeOrReal(path.join(root, 'flat')).map((i) => [i.id, i.label])).toEqual([
      ['fake/b.wav', 'spoof'],
      ['real/a.wav', 'bona-fide'],
    ]);
    expect(() => readFakeOrReal(path.join(root, 'for-norm'))).toThrow(/no label subfolder \(real, fake\) found/);
  });
});
