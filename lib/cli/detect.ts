import type { CommandModule } from 'yargs';
import { loadAudio } from '../audio';
import { Detection, createDetector } from '../detector';
import { UsageError } from '../errors';
import { writeTimelinePlot } from '../report/timeline';
import { ALLOW_MODEL_MISMATCH, BackendArgs, runCommand, selectBackend, withBackend } from './run';

interface Args extends BackendArgs {
  files: string[];
  model: string;
  head: string;
  json?: boolean;
  'window-s': number;
  threshold?: number;
  'target-prior-spoof'?: number;
  'cost-miss'?: number;
  'cost-fa'?: number;
  'allow-model-mismatch'?: boolean;
  timeline?: boolean;
  plot?: string;
}

export const detectCommand: CommandModule<object, Args> = {
  command: 'detect <files..>',
  describe: 'Calibrated P(spoof), decision and reliability for audio files (a bad file is reported, the others still scored)',
  builder: (y) =>
    withBackend(y)
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'WAV, FLAC or MP3 files' })
      .option('model', { type: 'string', demandOption: true, describe: 'model directory the head was trained on (unused for LFCC heads)' })
      .option('head', { type: 'string', demandOption: true, describe: 'head file from `wavprobe train` or `probe --out`' })
      .option('window-s', { type: 'number', default: 30, describe: 'long files are scored in windows of this many seconds (features averaged)' })
      .option('threshold', { type: 'number', describe: 'decide spoof when P(spoof) ≥ threshold (default 0.5)' })
      .option('target-prior-spoof', {
        type: 'number',
        describe: "deployment spoof prior: re-target P(spoof) from the head's prior to it; decide by the Bayes threshold of the costs",
      })
      .option('cost-miss', { type: 'number', describe: 'with --target-prior-spoof: cost of rejecting bona fide (default 1, ASVspoof 5)' })
      .option('cost-fa', { type: 'number', describe: 'with --target-prior-spoof: cost of accepting spoof (default 10, ASVspoof 5)' })
      .option('json', { type: 'boolean', describe: 'one JSON object per file, per line' })
      .option('timeline', {
        type: 'boolean',
        describe:
          "each frame's contribution c_t to the logit (their mean is the logit; not a per-frame detector: see the README); heads on one layer's mean",
      })
      .option('plot', { type: 'string', describe: 'one file: write its waveform and timeline here (PNG + SVG)' })
      .option('allow-model-mismatch', ALLOW_MODEL_MISMATCH) as never,
  handler: (args) =>
    runCommand('detect', async () => {
      if (args.plot !== undefined && args.files.length !== 1) throw new UsageError(`--plot draws one file, got ${args.files.length}`);
      await selectBackend(args);
      const detector = createDetector({
        model: args.model,
        head: args.head,
        windowS: args['window-s'],
        threshold: args.threshold,
        targetPriorSpoof: args['target-prior-spoof'],
        costMiss: args['cost-miss'],
        costFa: args['cost-fa'],
        allowModelMismatch: args['allow-model-mismatch'],
        timeline: args.timeline || args.plot !== undefined,
      });
      let failed = 0;
      try {
        for (const file of args.files.map(String)) {
          const r = await detector.detectFile(file);
          if (args.json) process.stdout.write(JSON.stringify(r) + '\n');
          else if (r.ok) {
            process.stdout.write(`${r.decision.padEnd(9)}  P(spoof) ${r.p_spoof.toFixed(4)}  reliability ${r.reliability.toFixed(3)}  ${r.file}\n`);
            if (args.timeline) process.stdout.write(timelineText(r));
          } else process.stdout.write(`error      ${r.file}: ${r.error}\n`);
          if (r.ok && args.plot !== undefined) {
            const files = await writeTimelinePlot(args.plot, (await loadAudio(file)).samples, 16000, r);
            process.stderr.write(`wavprobe detect: wrote ${files.png} and ${files.svg}\n`);
          }
          if (!r.ok) failed++;
        }
      } finally {
        detector.dispose();
      }
      if (failed) process.stderr.write(`wavprobe detect: ${failed} of ${args.files.length} files could not be read\n`);
      return failed ? 1 : 0;
    }),
};

/** The timeline in text: per window one line, its first frame's time, the hop, then c_t for every frame. */
function timelineText(r: Detection): string {
  const threshold = r.threshold_logit == null ? 'none' : `${r.threshold_logit.toFixed(3)} (spoof ${r.spoof_above ? 'at or above' : 'below'})`;
  const lines = [`  timeline: c_t per frame, mean = logit ${r.logit.toFixed(4)}; threshold ${threshold}`];
  for (let w = 0; w < r.windows; w++) {
    const frames = r.timeline!.filter((f) => f.window === w);
    const hop = frames.length > 1 ? frames[1].start_s - frames[0].start_s : 0;
    lines.push(
      `  window ${w} from ${frames[0].start_s.toFixed(3)} s every ${(1000 * hop).toFixed(0)} ms: ${frames.map((f) => f.logit.toFixed(2)).join(' ')}`,
    );
  }
  return lines.join('\n') + '\n';
}
