import type { CommandModule } from 'yargs';
import { Presets, SingleBar } from 'cli-progress';
import { runCommand } from './run';
import { convert } from '../weights/convert';
import { STORE_DTYPES, StoreDtype } from '../weights/store';

interface ConvertArgs {
  src: string;
  out: string;
  dtype: StoreDtype;
  'weight-file'?: string;
}

const MB = 1024 * 1024;

/** A progress bar on stderr when it is a TTY; a no-op otherwise. The label changes as files/phases change. */
function progressBar(): { update(label: string, done: number, total: number | undefined): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({ format: '{label} [{bar}] {percentage}% {mb}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  let current = '';
  return {
    update(label, done, total) {
      const mb = `${(done / MB).toFixed(1)}${total ? `/${(total / MB).toFixed(1)}` : ''} MB`;
      if (label !== current) {
        if (current) bar.stop();
        bar.start(total ?? 0, done, { label, mb });
        current = label;
      }
      if (total) bar.setTotal(total);
      bar.update(done, { label, mb });
    },
    stop() {
      if (current) bar.stop();
      current = '';
    },
  };
}

export const convertCommand: CommandModule<object, ConvertArgs> = {
  command: 'convert <src>',
  describe: 'Convert a HuggingFace checkpoint (a directory, or a hub id org/name[@revision]) into a wavprobe weight store',
  builder: (y) =>
    y
      .positional('src', { type: 'string', demandOption: true, describe: 'checkpoint directory or hub id, e.g. facebook/wav2vec2-xls-r-300m@main' })
      .option('out', { type: 'string', demandOption: true, describe: 'store directory to create (must not exist)' })
      .option('dtype', { choices: STORE_DTYPES, default: 'float32' as StoreDtype, describe: 'storage dtype (float16 halves the size)' })
      .option('weight-file', {
        type: 'string',
        describe: 'weight file of the source to read (default: model.safetensors, its index, pytorch_model.bin, its index)',
      }),
  handler: (args) =>
    runCommand('convert', async () => {
      const bar = progressBar();
      try {
        const s = await convert(args.src, args.out, {
          dtype: args.dtype,
          weightFile: args['weight-file'],
          hub: { onProgress: (file, done, total) => bar.update(`download ${file}`, done, total) },
          onProgress: (done, total) => bar.update('write', done, total),
        });
        bar.stop();
        const bytes = Object.values(s.info.files).reduce((a, f) => a + f.bytes, 0);
        console.log(
          `${s.out}: ${s.info.modelType}, ${s.tensors} tensors, ${s.info.parameters} parameters, ${s.info.dtype}, ` +
            `${(bytes / MB).toFixed(1)} MB (from ${s.info.source}, ${s.info.sourceWeightFile})`,
        );
      } finally {
        bar.stop();
      }
    }),
};
