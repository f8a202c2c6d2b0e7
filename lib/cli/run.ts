/**
 * Shared plumbing for the thin CLI commands: backend options, and the one-line error contract
 * (a WavprobeError prints `wavprobe <cmd>: <file>: <reason>` and sets a non-zero exit code, no stack trace).
 */
import type { Argv } from 'yargs';
import { BACKENDS, BackendName, useBackend } from '../backend';
import { WavprobeError } from '../errors';

export interface BackendArgs {
  backend: BackendName;
  threads?: number;
}

export function withBackend<T>(y: Argv<T>): Argv<T & BackendArgs> {
  return y
    .option('backend', { choices: BACKENDS, default: 'wasm' as BackendName, describe: 'tfjs backend' })
    .option('threads', { type: 'number', describe: 'wasm threads (default 1; more runs the threaded build through a patched loader, lib/wasm-threads.ts)' }) as Argv<T & BackendArgs>;
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
    if (e instanceof WavprobeError) {
      process.stderr.write(`wavprobe ${name}: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`wavprobe ${name}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  }
}
