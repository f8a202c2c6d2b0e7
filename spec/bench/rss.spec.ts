import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { peakRssBytes } from '../../lib/bench/rss';

describe('peakRssBytes', () => {
  it("is a child's own peak, not its larger parent's (which Linux's maxRSS carries across fork and exec)", () => {
    const ballast = Buffer.alloc(400 * 2 ** 20, 1); // the parent's resident set, well above any small child's
    const code = `process.stdout.write(String(require(${JSON.stringify(require.resolve('../../lib/bench/rss'))}).peakRssBytes()))`;
    const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', code], { encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const child = Number(r.stdout);
    expect(child).toBeGreaterThan(10 * 2 ** 20);
    if (fs.existsSync('/proc/self/status')) expect(child).toBeLessThan(ballast.length / 2);
    expect(peakRssBytes()).toBeGreaterThan(ballast.length);
  });
});
