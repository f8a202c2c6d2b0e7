/**
 * Shared plumbing for the thin CLI commands: backend options, and the one-line error contract
 * (a WavprobeError prints `wavprobe <cmd>: <file>: <reason>` and sets a non-zero exit code, no stack trace).
 */
import type { Argv } from 'yargs';
import { BACKENDS, BackendName, useBackend } from '../backend';
import { WavprobeError } from '../errors';

/** `--allow-model-mismatch`: for detect, eval, train and probe. */
export const ALLOW_MODEL_MISMATCH = {
  type: 'boolean',
  describe: "use features of a model other than the head's (or the training store's): same dimension still required",
} as const;

export interface BackendArgs {
  backend: BackendName;
  threads?: number;
}

export function withBackend<T>(y: Argv<T>): Argv<T & BackendArgs> {
  const threads = 'wasm threads (default 1; more runs the threaded build through a patched loader, lib/wasm-threads.ts)';
  return y
    .option('backend', { choices: BACKENDS, default: 'wasm' as BackendName, describe: 'tfjs backend' })
    .option('threads', { type: 'number', describe: threads }) as Argv<T & BackendArgs>;
}

export async function selectBackend(args: BackendArgs): Promise<string> {
  return useBackend(args.backend, { threads: args.threads });
}

/** Runs a command body; known errors become one line on stderr and exit code 1. */
export async function runCommand(name: string, body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    if (typeof code === 'number' && code !== 0) process.exitCode = code;
  } catch (e) {
    const line = e instanceof WavprobeError ? e.message : systemErrorLine(e);
    if (line !== null) {
      process.stderr.write(`wavprobe ${name}: ${line}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`wavprobe ${name}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  }
}

/**
 * An operating-system error (ENOSPC, EACCES, EIO, …: a full disk or a read-only folder is the user's to fix, not a
 * bug) as `<path>: <cause> (<CODE>)`; null for anything else.
 */
export function systemErrorLine(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string' || typeof err.syscall !== 'string' || !/^E[A-Z0-9]+$/.test(err.code)) return null;
  const cause = /^E[A-Z0-9]+: ([^,]+)/.exec(err.message)?.[1] ?? err.code;
  return `${err.path ?? `(${err.syscall})`}: ${cause} (${err.code})`;
}
