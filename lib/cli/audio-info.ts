import type { CommandModule } from 'yargs';
import { audioInfo, AudioInfo, dbfs } from '../audio';
import { runCommand } from './run';

interface Args {
  files: string[];
  json?: boolean;
}

export const audioInfoCommand: CommandModule<object, Args> = {
  command: 'audio-info <files..>',
  describe: 'Format, sample rate, channels, duration, peak and RMS of audio files, and whether each decodes',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'WAV, FLAC or MP3 files' })
      .option('json', { type: 'boolean', describe: 'one JSON object per file, per line' }),
  handler: (args) =>
    runCommand('audio-info', async () => {
      let failed = 0;
      for (const file of args.files) {
        const info = await audioInfo(file);
        if (!info.ok) failed++;
        process.stdout.write(`${args.json ? JSON.stringify(info) : textLine(info)}\n`);
      }
      return failed ? 1 : 0;
    }),
};

/** `ok    wav    8000 Hz  1 ch    0.501 s   peak -7.1 dBFS  rms -23.8 dBFS  file`; `FAIL  file: reason` when it did not decode. */
function textLine(r: AudioInfo): string {
  if (r.format === null) return `FAIL  ${r.file}: ${r.error}`;
  const db = (v: number | null) => (v === null ? '-' : dbfs(v).toFixed(1));
  return [
    r.ok ? 'ok  ' : 'FAIL',
    r.format.padEnd(4),
    `${r.sample_rate} Hz`.padStart(8),
    `${r.channels} ch`,
    `${r.duration_s?.toFixed(3)} s`.padStart(9),
    `peak ${db(r.peak)} dBFS`.padStart(15),
    `rms ${db(r.rms)} dBFS`.padStart(14),
    r.ok ? r.file : `${r.file}: ${r.error}`,
  ].join('  ');
}
