/**
 * Long fuzz runs over the targets of spec/fuzz/targets.ts (the same table and invariant as the bounded run in
 * `npm test`), outside jest: no test timeout, every target runs even after one fails, a summary at the end.
 *
 *   npm run fuzz -- [--runs N] [--seed S] [--target NAME[,NAME…]] [--ignore REGEX] [--list]
 *
 * --runs N     cases per target (default: each target's bounded count, as in `npm test`)
 * --seed S     fast-check seed (default 14, as in `npm test`); the same seed and runs replay the same cases
 * --target     only these targets (see --list)
 * --ignore R   count crashes whose "Name: message (where)" matches R as refusals, to look past a known bug
 * Exit status 1 when any target broke the invariant (the shrunk counterexample is printed), else 0.
 * The jest specs read the same settings from WAVPROBE_FUZZ_RUNS / _SEED / _TARGET (e.g. a longer run under jest).
 */
import { DEFAULT_SEED, FuzzOptions, runTarget } from './harness';
import { TARGETS } from './targets';

function usage(why?: string): never {
  if (why) console.error(`fuzz: ${why}`);
  console.error('usage: npm run fuzz -- [--runs N] [--seed S] [--target NAME[,NAME…]] [--ignore REGEX] [--list]');
  process.exit(2);
}

function parseArgs(argv: string[]): FuzzOptions & { list: boolean } {
  const out: FuzzOptions & { list: boolean } = { seed: DEFAULT_SEED, list: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = (): string => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    const int = (): number => {
      const v = value();
      if (!/^\d+$/.test(v)) usage(`${flag} must be a non-negative integer, got "${v}"`);
      return Number(v);
    };
    if (flag === '--runs') out.runs = int();
    else if (flag === '--seed') out.seed = int();
    else if (flag === '--target' || flag === '--targets') out.targets = [...(out.targets ?? []), ...value().split(',').filter(Boolean)];
    else if (flag === '--ignore') out.ignore = new RegExp(value());
    else if (flag === '--list') out.list = true;
    else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown argument "${argv[i]}"`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(20)} ${t.group.padEnd(8)} ${String(t.runs).padStart(5)}  ${t.what}`);
    return;
  }
  const unknown = (args.targets ?? []).filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length) usage(`unknown target(s) ${unknown.join(', ')} (see --list)`);
  const targets = args.targets ? TARGETS.filter((t) => args.targets!.includes(t.name)) : TARGETS;
  console.log(`fuzzing ${targets.length} target(s), seed ${args.seed}, ${args.runs ?? "each target's bounded number of"} cases each`);
  const failed: string[] = [];
  for (const t of targets) {
    const r = await runTarget(t, args);
    const line = `${t.name.padEnd(20)} ${String(r.runs).padStart(7)} cases  ${String(r.values).padStart(7)} values  ${String(r.refused).padStart(7)} refused  ${(r.ms / 1000).toFixed(1).padStart(7)} s`;
    if (r.failure) {
      failed.push(t.name);
      console.log(`${line}  FAILED\n${r.failure.replace(/^/gm, '    ')}`);
    } else console.log(`${line}  ok`);
  }
  console.log(failed.length ? `${failed.length} target(s) broke the invariant: ${failed.join(', ')}` : 'all targets held');
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 2;
});
