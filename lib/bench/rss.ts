import * as fs from 'fs';

/**
 * This process's peak resident set so far, in bytes: Linux's VmHWM (this program's own), else getrusage's maxRSS.
 * On Linux maxRSS is kept across fork and exec, so a child spawned by a larger process reports its parent's peak
 * (a Node child of a 600 MB parent: maxRSS 576 MB, VmHWM 40 MB).
 */
export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // no procfs: not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
