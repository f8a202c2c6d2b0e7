import * as os from 'os';
import type { CommandModule } from 'yargs';
import { runDemo } from '../demo';
import { BackendArgs, runCommand, selectBackend, withBackend } from './run';
import { extractionProgress } from './progress';

interface Args extends BackendArgs {
  out: string;
  model?: string;
  limit?: number;
  workers: number;
}

export const demoCommand: CommandModule<object, Args> = {
  command: 'demo',
  describe: 'The bundled digits-spoof set through every layer → calibrated detectors → report (offline, a few minutes)',
  builder: (y) =>
    withBackend(y)
      .option('out', { type: 'string', default: 'out/demo', describe: 'report folder (rerun to resume)' })
      .option('model', {
        type: 'string',
        describe: 'a real model: converted store, HF checkpoint directory or hub id (default: bundled random-weight model)',
      })
      .option('workers', { type: 'number', default: Math.min(2, os.cpus().length), describe: 'extraction worker threads' })
      .option('limit', { type: 'number', describe: 'use only the first N files of each split' }) as never,
  handler: (args) =>
    runCommand('demo', async () => {
      await selectBackend(args);
      let bar: ReturnType<typeof extractionProgress> | null = null;
      const s = await runDemo({
        out: args.out,
        model: args.model,
        limit: args.limit,
        workers: args.workers,
        backend: args.backend,
        onStage: (stage) => {
          bar?.stop();
          bar = extractionProgress(stage);
          if (!process.stderr.isTTY) process.stderr.write(`${stage}…\n`);
        },
        onProgress: (_stage, p) => bar?.update(p),
      });
      (bar as ReturnType<typeof extractionProgress> | null)?.stop();
      const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
      process.stdout.write(
        `best layer ${s.best.layer}: EER ${pct(s.best.eer)}, ECE ${pct(s.best.ece)}; LFCC: EER ${pct(s.lfcc.eer)}, ECE ${pct(s.lfcc.ece)}\n` +
          `report: ${s.report}\n`,
      );
    }),
};
