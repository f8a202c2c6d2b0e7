import * as path from 'path';
import { readAsvspoof2021 } from '../../lib/data/asvspoof2021';
import { DataError, UsageError } from '../../lib/errors';
import { makeTree, removeTree } from '../helpers/tree';

// Rows in the layout of the released keys (eval-package config.py; examples from its README).
const LA_KEYS = [
  'LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval',
  'LA_0009 LA_E_1000001 alaw ita_tx bonafide bonafide notrim progress',
  'LA_0010 LA_E_1000002 none - A10 spoof trim hidden',
].join('\n');
const DF_KEYS = [
  'LA_0023 DF_E_2000011 nocodec asvspoof A14 spoof notrim progress traditional_vocoder - - - -',
  'LA_0023 DF_E_2000012 low_mp3 asvspoof - bonafide notrim eval bonafide - - - -',
  'TEF2 DF_E_2000013 high_m4a vcc2020 Task1-team20 spoof notrim eval unknown Task1 team20 F-F eng',
].join('\n');

describe('asvspoof2021 reader', () => {
  let la: string;
  let df: string;
  beforeAll(() => {
    la = makeTree({ 'keys/CM/trial_metadata.txt': LA_KEYS + '\n' });
    df = makeTree({ 'keys/DF/CM/trial_metadata.txt': DF_KEYS }); // as DF-keys-full.tar.gz unpacks
  });
  afterAll(() => {
    removeTree(la);
    removeTree(df);
  });

  it('reads LA keys: trial ids, labels, attack on spoof rows, other columns in extra', () => {
    const items = readAsvspoof2021(la, 'LA');
    expect(items).toHaveLength(3);
    expect(items[0]).toEqual({
      id: 'LA_E_9332881',
      path: path.join(la, 'ASVspoof2021_LA_eval/flac/LA_E_9332881.flac'),
      label: 'spoof',
      speaker: 'LA_0009',
      attack: 'A07',
      extra: { codec: 'alaw', transmission: 'ita_tx', trim: 'notrim', subset: 'eval' },
    });
    expect(items[1]).toMatchObject({ id: 'LA_E_1000001', label: 'bona-fide' });
    expect(items[1].attack).toBeUndefined();
    expect(items[2].extra).toEqual({ codec: 'none', trim: 'trim', subset: 'hidden' });
  });

  it('reads DF keys from keys/DF/CM with the vocoder and VCC columns', () => {
    const items = readAsvspoof2021(df, 'DF');
    expect(items.map((i) => [i.id, i.label, i.attack])).toEqual([
      ['DF_E_2000011', 'spoof', 'A14'],
      ['DF_E_2000012', 'bona-fide', undefined],
      ['DF_E_2000013', 'spoof', 'Task1-team20'],
    ]);
    expect(items[0].path).toBe(path.join(df, 'ASVspoof2021_DF_eval/flac/DF_E_2000011.flac'));
    expect(items[2].extra).toEqual({
      codec: 'high_m4a',
      source: 'vcc2020',
      trim: 'notrim',
      subset: 'eval',
      vocoder: 'unknown',
      task: 'Task1',
      team: 'team20',
      'gender-pair': 'F-F',
      language: 'eng',
    });
  });

  it('filters on the subset column; all rows by default', () => {
    expect(readAsvspoof2021(df, 'DF', { subset: 'eval' }).map((i) => i.id)).toEqual(['DF_E_2000012', 'DF_E_2000013']);
    expect(readAsvspoof2021(la, 'LA', { subset: 'progress', split: 'eval' }).map((i) => i.id)).toEqual(['LA_E_1000001']);
    expect(() => readAsvspoof2021(la, 'LA', { subset: 'dev' })).toThrow(UsageError);
    expect(() => readAsvspoof2021(la, 'LA', { split: 'train' })).toThrow(/only the eval split/);
  });

  it('names the keys file and the line of a malformed row', () => {
    const bad = makeTree({ 'keys/CM/trial_metadata.txt': `${LA_KEYS}\nLA_0011 LA_E_1000003 alaw ita_tx A07 spoof notrim\n` });
    const badKey = makeTree({ 'keys/CM/trial_metadata.txt': 'LA_0023 DF_E_1 nocodec asvspoof A14 fake notrim eval\n' });
    try {
      const file = path.join(bad, 'keys/CM/trial_metadata.txt');
      expect(() => readAsvspoof2021(bad, 'LA')).toThrow(`${file}: line 4: expected 8 columns`);
      expect(() => readAsvspoof2021(bad, 'DF')).toThrow(/line 4: expected 8 to 13 columns .* got 7/);
    } finally {
      removeTree(bad);
    }
    try {
      expect(() => readAsvspoof2021(badKey, 'DF')).toThrow(/line 1: key "fake" is neither "bonafide" nor "spoof"/);
    } finally {
      removeTree(badKey);
    }
  });

  it('is a DataError listing both key locations when the keys are missing', () => {
    const empty = makeTree({ 'ASVspoof2021_LA_eval/flac/LA_E_1.flac': '' });
    try {
      expect(() => readAsvspoof2021(empty, 'LA')).toThrow(DataError);
      expect(() => readAsvspoof2021(empty, 'LA')).toThrow(/keys\/CM\/trial_metadata.txt or .*keys\/LA\/CM\/trial_metadata.txt/);
    } finally {
      removeTree(empty);
    }
  });
});
