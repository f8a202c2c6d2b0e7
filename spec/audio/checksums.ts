import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** Checks `sha256sum` output in dir/SHA256SUMS; returns the files listed, throws on a mismatch or missing file. */
export function verifySha256Sums(dir: string): string[] {
  const lines = fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').split('\n').filter(Boolean);
  return lines.map((line) => {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new Error(`bad SHA256SUMS line: ${line}`);
    const file = path.join(dir, m[2]);
    const actual = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    if (actual !== m[1]) throw new Error(`${m[2]}: sha256 ${actual}, SHA256SUMS says ${m[1]}`);
    return m[2];
  });
}
