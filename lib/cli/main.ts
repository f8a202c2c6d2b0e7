/** The `wavprobe` command line: one file per command under lib/cli, each thin over the library API. */
import yargs from 'yargs';
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
import { exploreCommand } from './explore';
import { benchCommand } from './bench';
import { slurmCommand } from './slurm';
import { k8sCommand } from './k8s';
import { serveCommand } from './serve';
import { packageInfo } from '../version';

export async function main(argv: string[]): Promise<void> {
  // One .command() each (not a loop over an array): every command keeps its own argument type.
  await yargs(argv)
    .scriptName('wavprobe')
    .strict()
    .demandCommand(1, 'name a command (see --help)')
    .command(infoCommand)
    .command(convertCommand)
    .command(trainCommand)
    .command(evalCommand)
    .command(audioInfoCommand)
    .command(extractCommand)
    .command(mergeCommand)
    .command(forwardCommand)
    .command(inspectCommand)
    .command(exploreCommand)
    .command(probeCommand)
    .command(demoCommand)
    .command(detectCommand)
    .command(benchCommand)
    .command(slurmCommand)
    .command(k8sCommand)
    .command(serveCommand)
    .help()
    .alias('h', 'help')
    .version(packageInfo().version)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .parseAsync();
}
