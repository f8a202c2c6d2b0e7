import type { CommandModule } from 'yargs';
import { serve } from '../serve';
import { runCommand } from './run';

interface Args {
  port: number;
  host: string;
  models?: string;
}

export const serveCommand: CommandModule<object, Args> = {
  command: 'serve',
  describe: 'Serve the browser app (cross-origin isolated: threads) and, read-only at /models/, a folder of stores, heads and audio',
  builder: (y) =>
    y
      .option('port', { type: 'number', default: 8080, describe: 'TCP port (0: any free one)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind (the default keeps it on this machine)' })
      .option('models', { type: 'string', describe: 'folder served read-only at /models/ (converted stores, head files, audio)' }) as never,
  handler: (args) =>
    runCommand('serve', async () => {
      const served = await serve({ port: args.port, host: args.host, models: args.models });
      console.log(`wavprobe serve: ${served.url} (Ctrl-C stops it)`);
      // Ctrl-C (or a TERM) closes the server and its open connections, and the command returns normally.
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void served.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      console.log('wavprobe serve: stopped');
    }),
};
