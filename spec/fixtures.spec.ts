import * as fs from 'fs';
import * as path from 'path';
import { FIXTURES, checksumMismatches } from './helpers/fixtures';

/** Every fixture folder with a SHA256SUMS file is intact. */
const sums = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sums(path.join(dir, e.name)) : e.name === 'SHA256SUMS' ? [dir] : []));

describe('fixtures', () => {
  const dirs = sums(FIXTURES);
  it('has checksummed fixture folders', () => expect(dirs.length).toBeGreaterThan(0));
  it.each(dirs.map((d) => [path.relative(FIXTURES, d), d]))('%s matches its SHA256SUMS', (_name, dir) => {
    expect(checksumMismatches(dir)).toEqual([]);
  });
});
