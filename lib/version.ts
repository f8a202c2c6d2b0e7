import * as fs from 'fs';
import * as path from 'path';

/** wavprobe's package.json, found from this file whether it runs from lib/ (ts-jest) or dist/lib/ (built). */
export function packageInfo(): { name: string; version: string } {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      const j = JSON.parse(fs.readFileSync(p, 'utf8'));
      if (j.name === 'wavprobe') return j;
    }
  }
  return { name: 'wavprobe', version: 'unknown' };
}
