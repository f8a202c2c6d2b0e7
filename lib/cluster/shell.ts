/** Shell words for generated job scripts. */

/** `s` as one POSIX shell word: bare when it holds only safe characters, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_\-./:=,+@%]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const shellLine = (words: string[]): string => words.map(shellWord).join(' ');

/** How this process was started (`<node> <script>`), to run the same wavprobe on the cluster's nodes. */
export function thisInvocation(): string {
  return shellLine([process.execPath, process.argv[1]]);
}
