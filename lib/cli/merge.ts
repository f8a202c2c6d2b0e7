import type { CommandModule } from 'yargs';
import { mergeStores } from '../features/merge';
import { runCommand } from './run';

export const mergeCommand: CommandModule<object, { shards: string[]; out: string }> = {
  command: 'merge <shards..>',
  describe: 'Join the shard stores of `extract --shard i/n` into one store, in the original file order',
  builder: (y) =>
    y
      .positional('shards', { type: 'string', array: true, demandOption: true, describe: 'shard store directories' })
      .option('out', { type: 'string', demandOption: true, describe: 'merged store directory to create' }) as never,
  handler: (args) =>
    runCommand('merge', async () => {
      const r = mergeStores(args.shards.map(String), args.out);
      process.stdout.write(`${args.out}: ${r.rows} rows from ${r.shards} shards\n`);
    }),
};
