/**
 * Runs a fuzz target: fast-check generates cases (a seed file and its mutations), each case's input goes through
 * the target's parser, and the invariant is checked:
 *   - the parser returns a value (that passes the target's `check`, if it has one), or throws a WavprobeError
 *     (any other exception — TypeError, RangeError, a stack overflow — is a crash);
 *   - within TIME_BUDGET_MS per case;
 *   - raising the peak RSS by at most MEMORY_BUDGET_BYTES, and retaining at most that much (see checkInput).
 *
 * Used by the jest specs (bounded: each target's own `runs`, a fixed seed) and by spec/fuzz/run.ts (long runs).
 * Settings come from the environment so both read them alike: WAVPROBE_FUZZ_RUNS (cases per target, replaces
 * each target's bounded count), WAVPROBE_FUZZ_SEED, WAVPROBE_FUZZ_TARGET (comma-separated names).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import fc from 'fast-check';
import { peakRssBytes } from '../../lib/bench/rss';
import { WavprobeError } from '../../lib/errors';
import { Case, Mutators, Seed, buildInput, caseArbitrary, hex } from './mutate';

export const TIME_BUDGET_MS = 2000;
export const MEMORY_BUDGET_BYTES = 256 * 1024 * 1024;
export const DEFAULT_SEED = 14; // the issue that asked for this suite

/** A folder a parser that takes paths can write its input into (one per target run). */
export interface Scratch {
  dir: string;
  /** Writes `bytes` to `<dir>/<rel>` (creating folders) and returns the path. */
  write(rel: string, bytes: Uint8Array): string;
}

export interface Target {
  name: string;
  /** Which spec file runs it (jest runs the groups in parallel). */
  group: 'audio' | 'weights' | 'data' | 'features';
  /** The entry point under test, for listings. */
  what: string;
  /** Valid (or deliberately refused) files to start from; computed once per run. */
  seeds: () => Seed[];
  mutators: Partial<Mutators>;
  /** Parses an input; a path-taking parser writes it into the scratch folder first. */
  parse: (input: Uint8Array, scratch: Scratch) => unknown;
  /** Checks a returned value (throws an Error saying what is wrong). */
  check?: (value: unknown) => void;
  /** Cases in the bounded run of `npm test`. */
  runs: number;
}

export interface FuzzOptions {
  runs?: number;
  seed: number;
  targets?: string[];
  /** Crashes whose `Name: message` matches are counted as refusals: to look past a known, recorded bug. */
  ignore?: RegExp;
}

/** WAVPROBE_FUZZ_RUNS / _SEED / _TARGET. */
export function fuzzOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): FuzzOptions {
  const int = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
    return Number(v);
  };
  const t = env.WAVPROBE_FUZZ_TARGET;
  return { runs: int('WAVPROBE_FUZZ_RUNS'), seed: int('WAVPROBE_FUZZ_SEED') ?? DEFAULT_SEED, targets: t ? t.split(',').filter(Boolean) : undefined };
}

export function makeScratch(name: string): Scratch & { remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wavprobe-fuzz-${name}-`));
  return {
    dir,
    write(rel: string, bytes: Uint8Array): string {
      const file = path.join(dir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, bytes);
      return file;
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Why a case broke the invariant. */
export class FuzzFailure extends Error {
  constructor(
    readonly target: string,
    readonly kind: 'crash' | 'time' | 'memory' | 'bad value',
    detail: string,
    readonly input: Uint8Array,
  ) {
    super(`${target}: ${kind}: ${detail}\n  input (${input.length} bytes): ${hex(input, 128)}`);
    this.name = 'FuzzFailure';
    this.stack = `${this.name}: ${this.message}`; // where the harness noticed is of no interest
  }
}

const memory = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
/** Peak resident set size so far (bytes): a case that raises it by more than the budget allocated too much. */
const peakRss = peakRssBytes;

let gcFn: (() => void) | null | undefined;
/** A full garbage collection (V8's gc, exposed at run time), or null where it cannot be had. */
function collect(): boolean {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
  return gcFn !== null;
}

const describeError = (e: unknown): string => {
  // Not `instanceof Error`: under jest, Node's own errors (ERR_OUT_OF_RANGE, …) come from another realm.
  const err = e as Error;
  if (err !== null && typeof err === 'object' && typeof err.message === 'string') {
    const where = err.stack
      ?.split('\n')
      .find((l) => l.includes('/lib/'))
      ?.trim();
    return `${err.name}: ${err.message.slice(0, 300)}${where ? ` (${where})` : ''}`;
  }
  return `non-Error thrown: ${String(e)}`;
};

const mutatorsOf = (t: Target): Mutators => ({
  dictionary: t.mutators.dictionary ?? [],
  fields: t.mutators.fields ?? false,
  json: t.mutators.json ?? false,
  text: t.mutators.text ?? false,
});

/** The parser's outcome on one input, with its time, the rise of the peak RSS, and the memory it retains. */
async function measure(t: Target, input: Uint8Array, scratch: Scratch, precise: boolean) {
  if (precise) collect();
  const before = memory();
  const peakBefore = peakRss();
  const start = performance.now();
  let value: unknown;
  let error: unknown;
  let threw = false;
  try {
    value = await t.parse(input, scratch);
  } catch (e) {
    threw = true;
    error = e;
  }
  const ms = performance.now() - start;
  const peak = peakRss() - peakBefore;
  if (precise) collect();
  const retained = memory() - before; // measured while the value is still referenced
  return { value, error, threw, ms, peak, retained };
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;

/**
 * Runs one input through a target and throws a FuzzFailure when the invariant does not hold. Memory is judged
 * twice over: the peak RSS may not rise by more than the budget during the case, and what the case leaves
 * behind (heap + external, after a full GC, the returned value still referenced) may not exceed it either.
 * Without a GC before and after, the heap also counts earlier cases' garbage: a case over the budget is measured
 * again, with GCs, before it counts as a failure.
 */
export async function checkInput(t: Target, input: Uint8Array, scratch: Scratch, ignore?: RegExp): Promise<'value' | 'refused'> {
  const first = await measure(t, input, scratch, false);
  const r = first.retained > MEMORY_BUDGET_BYTES && collect() ? await measure(t, input, scratch, true) : first;
  const peak = first.peak; // a rerun finds the peak RSS already raised
  // A slow case is timed twice more (the machine may be busy with other work): its fastest run counts.
  let ms = r.ms;
  for (let k = 0; k < 2 && ms > TIME_BUDGET_MS; k++) ms = Math.min(ms, (await measure(t, input, scratch, false)).ms);
  const { value, error, threw, retained } = r;
  if (threw && !(error instanceof WavprobeError) && !ignore?.test(describeError(error)))
    throw new FuzzFailure(t.name, 'crash', describeError(error), input);
  if (ms > TIME_BUDGET_MS) throw new FuzzFailure(t.name, 'time', `took ${Math.round(ms)} ms (budget ${TIME_BUDGET_MS} ms)`, input);
  if (peak > MEMORY_BUDGET_BYTES)
    throw new FuzzFailure(t.name, 'memory', `raised the peak RSS by ${mb(peak)} (budget ${mb(MEMORY_BUDGET_BYTES)})`, input);
  if (retained > MEMORY_BUDGET_BYTES) throw new FuzzFailure(t.name, 'memory', `retained ${mb(retained)} (budget ${mb(MEMORY_BUDGET_BYTES)})`, input);
  if (threw) return 'refused';
  try {
    t.check?.(value);
  } catch (e) {
    throw new FuzzFailure(t.name, 'bad value', (e as Error).message, input);
  }
  return 'value';
}

export interface TargetResult {
  name: string;
  runs: number;
  values: number;
  refused: number;
  ms: number;
  failure?: string;
}

/** Runs a target's cases; never throws for a broken invariant (the result says so), so a runner can go on. */
export async function runTarget(t: Target, opts: FuzzOptions): Promise<TargetResult> {
  const seeds = t.seeds();
  const m = mutatorsOf(t);
  const scratch = makeScratch(t.name);
  const counts = { values: 0, refused: 0 };
  const start = performance.now();
  try {
    const property = fc.asyncProperty(caseArbitrary(seeds, m), async (c: Case) => {
      const outcome = await checkInput(t, buildInput(seeds, m, c), scratch, opts.ignore);
      counts[outcome === 'value' ? 'values' : 'refused']++;
    });
    const runs = opts.runs ?? t.runs;
    const details = await fc.check(property, { numRuns: runs, seed: opts.seed, verbose: 0, includeErrorInReport: true });
    const result: TargetResult = { name: t.name, runs, ...counts, ms: performance.now() - start };
    if (details.failed) {
      const seed = details.counterexample ? seeds[(details.counterexample[0] as Case).seed % seeds.length].name : '?';
      result.failure = `${fc.defaultReportMessage(details)}\n(seed file of the counterexample: ${seed})`;
    }
    return result;
  } finally {
    scratch.remove();
  }
}

/** Fixed inputs that once broke a target: each must keep the invariant. */
export interface Regression {
  target: string;
  /** What was wrong, and who fixed it (or whose file it is in, while it still fails). */
  note: string;
  input: () => Uint8Array;
}

export async function checkRegression(targets: Target[], r: Regression): Promise<void> {
  const t = targets.find((x) => x.name === r.target);
  if (!t) throw new Error(`no fuzz target "${r.target}"`);
  const scratch = makeScratch(t.name);
  try {
    await checkInput(t, r.input(), scratch);
  } finally {
    scratch.remove();
  }
}

/** The jest side: one `it` per target of the group (the bounded run), failing with the shrunk counterexample. */
export function describeFuzz(group: Target['group'], targets: Target[]): void {
  const opts = fuzzOptionsFromEnv();
  const mine = targets.filter((t) => t.group === group && (!opts.targets || opts.targets.includes(t.name)));
  describe(`fuzz: ${group} parsers (seed ${opts.seed})`, () => {
    if (mine.length === 0) it.skip('no target selected', () => undefined);
    for (const t of mine) {
      const runs = opts.runs ?? t.runs;
      it(
        `${t.name}: ${t.what} returns a value or a WavprobeError (${runs} cases)`,
        async () => {
          const r = await runTarget(t, opts);
          if (r.failure) throw new Error(r.failure);
        },
        Math.max(120_000, runs * 200),
      ); // room for a long WAVPROBE_FUZZ_RUNS run and for shrinking
    }
  });
}
