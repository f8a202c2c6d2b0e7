import * as path from 'path';
import { readAsvspoof2019 } from '../../lib/data/asvspoof2019';
import { DataError, UsageError } from '../../lib/errors';
import { makeTree, removeTree } from '../helpers/tree';

const PROTO = 'ASVspoof2019_LA_cm_protocols';
const TRAIN = `${PROTO}/ASVspoof2019.LA.cm.train.trn.txt`;

describe('asvspoof2019 reader', () => {
  let root: string;
  beforeAll(() => {
    root = makeTree({
      // CRLF line ends, a blank line and a trailing space: real files are not always tidy.
      [TRAIN]: 'LA_0079 LA_T_1138215 - - bonafide\r\nLA_0079 LA_T_1271820 - A01 spoof\r\n\r\nLA_0080 LA_T_1000137 - A04 spoof \r\n',
      [`${PROTO}/ASVspoof2019.LA.cm.dev.trl.txt`]: 'LA_0069 LA_D_1047731 - - bonafide\nLA_0069 LA_D_1105538 - A02\n',
      [`${PROTO}/ASVspoof2019.LA.cm.eval.trl.txt`]: 'LA_0039 LA_E_2834763 - A11 spoof\nLA_0039 LA_E_2834763 - A11 spoof\n',
      'ASVspoof2019_LA_train/flac/LA_T_1138215.flac': '', // the others are missing on purpose: extraction reports those
    });
  });
  afterAll(() => removeTree(root));

  it('reads the train protocol: ids, labels, speakers, attacks and flac paths', () => {
    expect(readAsvspoof2019(root, { split: 'train' })).toEqual([
      { id: 'LA_T_1138215', path: path.join(root, 'ASVspoof2019_LA_train/flac/LA_T_1138215.flac'), label: 'bona-fide', speaker: 'LA_0079' },
      {
        id: 'LA_T_1271820',
        path: path.join(root, 'ASVspoof2019_LA_train/flac/LA_T_1271820.flac'),
        label: 'spoof',
        speaker: 'LA_0079',
        attack: 'A01',
      },
      {
        id: 'LA_T_1000137',
        path: path.join(root, 'ASVspoof2019_LA_train/flac/LA_T_1000137.flac'),
        label: 'spoof',
        speaker: 'LA_0080',
        attack: 'A04',
      },
    ]);
  });

  it('names the protocol file and the line of a malformed row', () => {
    const err = (() => {
      try {
        readAsvspoof2019(root, { split: 'dev' });
      } catch (e) {
        return e as DataError;
      }
    })();
    expect(err).toBeInstanceOf(DataError);
    expect(err!.file).toBe(path.join(root, `${PROTO}/ASVspoof2019.LA.cm.dev.trl.txt`));
    expect(err!.message).toMatch(/line 2: expected 5 columns .* got 4/);
  });

  it('rejects a repeated file id, naming both lines', () => {
    expect(() => readAsvspoof2019(root, { split: 'eval' })).toThrow(/line 2: id "LA_E_2834763" repeats line 1/);
  });

  it('rejects an unknown key', () => {
    const bad = makeTree({ [TRAIN]: 'LA_0079 LA_T_1 - A01 spoofed\n' });
    try {
      expect(() => readAsvspoof2019(bad, { split: 'train' })).toThrow(/line 1: key "spoofed" is neither "bonafide" nor "spoof"/);
    } finally {
      removeTree(bad);
    }
  });

  it('needs a split and a protocol file', () => {
    expect(() => readAsvspoof2019(root)).toThrow(UsageError);
    expect(() => readAsvspoof2019(root, { split: 'toString' })).toThrow(/needs --split train, dev or eval \(got "toString"\)/);
    const empty = makeTree({});
    try {
      expect(() => readAsvspoof2019(empty, { split: 'train' })).toThrow(DataError);
      expect(() => readAsvspoof2019(empty, { split: 'train' })).toThrow(`${path.join(empty, TRAIN)}: ASVspoof 2019 LA protocol file not found`);
    } finally {
      removeTree(empty);
    }
  });
});
