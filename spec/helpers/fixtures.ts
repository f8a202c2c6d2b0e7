/** Test helpers for fixtures copied into the project (tests never read the shared reference folder beside it). */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');
export const GOLDEN = path.join(FIXTURES, 'golden');
export const GOLDEN_MODELS = ['wav2vec2_base_tiny', 'wav2vec2_large_tiny', 'hubert_base_tiny', 'wavlm_base_tiny', 'wavlm_large_tiny'];

/** Checks every `<sha256>  <file>` line of `<dir>/SHA256SUMS`; returns the files that do not match. */
export function checksumMismatches(dir: string): string[] {
  const lines = fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').split('\n').filter(Boolean);
  const bad: string[] = [];
  for (const line of lines) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) {
      bad.push(`malformed line: ${line}`);
      continue;
    }
    const file = path.join(dir, m[2]);
    const sum = fs.existsSync(file) ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') : 'missing';
    if (sum !== m[1]) bad.push(m[2]);
  }
  return bad;
}
