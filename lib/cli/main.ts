/** The `wavprobe` command line: one file per command under lib/cli, each thin over the library API. */
import yargs, { CommandModule } from 'yargs';
import { infoCommand } from './info';
import { convertCommand } from './convert';
import { audioInfoCommand } from './audio-info';
import { trainCommand } from './train';
import { evalCommand } from './eval';
import { extractCommand } from './extract';
import { mergeCommand } from './merge';
import { probeCommand } from './probe';
import { demoCommand } from './demo';
import { detectCommand } from './detect';
import { forwardCommand } from './forward';
import { inspectCommand } from './inspect';
import { benchCommand } from './bench';
import { packageInfo } from '../version';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const COMMANDS: CommandModule<any, any>[] = [infoCommand, convertCommand, trainCommand, evalCommand, audioInfoCommand, extractCommand, mergeCommand, forwardCommand, inspectCommand, probeCommand, demoCommand, detectCommand, benchCommand];

export async function main(argv: string[]): Promise<void> {
  let y = yargs(argv).scriptName('wavprobe').strict().demandCommand(1, 'name a command (see --help)');
  for (const c of COMMANDS) y = y.command(c);
  await y.help().alias('h', 'help').version(packageInfo().version).wrap(Math.min(110, process.stdout.columns || 110)).parseAsync();
}
