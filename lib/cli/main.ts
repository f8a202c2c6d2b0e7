/** The `wavprobe` command line: one file per command under lib/cli, each thin over the library API. */
import yargs, { CommandModule } from 'yargs';
import { infoCommand } from './info';
import { packageInfo } from '../version';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const COMMANDS: CommandModule<any, any>[] = [infoCommand];

export async function main(argv: string[]): Promise<void> {
  let y = yargs(argv).scriptName('wavprobe').strict().demandCommand(1, 'name a command (see --help)');
  for (const c of COMMANDS) y = y.command(c);
  await y.help().alias('h', 'help').version(packageInfo().version).wrap(Math.min(110, process.stdout.columns || 110)).parseAsync();
}
