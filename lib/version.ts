import * as fs from 'fs';
import * as path from 'path';

/** wavprobe's install folder (holding package.json), found from this file in lib/ (ts-jest) or dist/lib/ (built). */
export function packageRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p) && JSON.parse(fs.readFileSync(p, 'utf8')).name === 'wavprobe') return dir;
  }
  throw new Error(`wavprobe's package.json not found above ${__dirname}`);
}

export function packageInfo(): { name: string; version: string } {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
}
