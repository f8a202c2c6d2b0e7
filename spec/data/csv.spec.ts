import * as fs from 'fs';
import * as path from 'path';
import { formatCsv, parseCsvRows, readCsv, writeCsv } from '../../lib/data/csv';
import { tmpDir } from '../helpers/probe';

describe('csv', () => {
  it('parses quoted fields with commas, doubled quotes and newlines; CRLF, a BOM and blank lines', () => {
    const text = '\ufeffid,note\r\n"a,1","say ""hi"""\r\n\r\nb,"two\nlines"\nc,\n';
    expect(parseCsvRows(text)).toEqual([
      ['id', 'note'],
      ['a,1', 'say "hi"'],
      ['b', 'two\nlines'],
      ['c', ''],
    ]);
    expect(parseCsvRows('x,y')).toEqual([['x', 'y']]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => parseCsvRows('a,"b\n', 'f.csv')).toThrow(/f\.csv: unterminated quoted field/);
  });

  it('round-trips records through a file, quoting only where needed', () => {
    const dir = tmpDir();
    const file = path.join(dir, 't.csv');
    const rows = [
      { id: 'x, y', label: 'spoof', n: 3 },
      { id: ' pad', label: 'a"b' },
    ];
    writeCsv(file, ['id', 'label', 'n'], rows);
    expect(fs.readFileSync(file, 'utf8')).toBe(formatCsv(['id', 'label', 'n'], rows));
    expect(fs.readFileSync(file, 'utf8')).toBe('id,label,n\n"x, y",spoof,3\n" pad","a""b",\n');
    expect(readCsv(file, ['id']).rows).toEqual([
      { id: 'x, y', label: 'spoof', n: '3' },
      { id: ' pad', label: 'a"b', n: '' },
    ]);
    fs.rmSync(dir, { recursive: true });
  });

  it('names the file and the row on structural errors', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'bad.csv');
    fs.writeFileSync(file, 'id,label\na\n');
    expect(() => readCsv(file)).toThrow(/bad\.csv: row 2 has 1 fields, the header has 2/);
    fs.writeFileSync(file, '');
    expect(() => readCsv(file)).toThrow(/bad\.csv: empty CSV file/);
    expect(() => readCsv(path.join(dir, 'none.csv'))).toThrow(/none\.csv: cannot read CSV file \(ENOENT\)/);
    // a repeated column name would hide one of the two columns (rows are keyed by name)
    fs.writeFileSync(file, 'file,label,label\na.wav,spoof,bona-fide\n');
    expect(() => readCsv(file)).toThrow(/bad\.csv: column "label" appears twice in the header/);
    fs.rmSync(dir, { recursive: true });
  });
});
