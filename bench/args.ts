/** The bench scripts' command line: the value after --name, else the fallback; with no fallback the flag is required. */
export function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 && fallback === undefined) throw new Error(`--${name} is required`);
  return i < 0 ? (fallback as string) : process.argv[i + 1];
}
