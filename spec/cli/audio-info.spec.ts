/** `wavprobe audio-info`, run in-process through main(): output lines, JSON records, exit code. */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../helpers/cli';

const FIXTURES = path.join(__dirname, '../fixtures/audio');
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `wavprobe …` in-process, as {out, err, code}. */
const run = async (args: string[]): Promise<{ out: string; err: string; code: number }> => {
  const r = await runCli(args);
  return { out: r.stdout, err: r.stderr, code: r.exitCode };
};

describe('wavprobe audio-info', () => {
  const good = ['digit-8k.wav', 'digit-8k.flac', 'digit-8k.mp3', 'pcm16-stereo-44100.wav'].map((f) => path.join(FIXTURES, f));

  it('--json prints one record per file and exits 0 when all decode', async () => {
    const { out, err, code } = await run(['audio-info', '--json', ...good]);
    expect(code).toBe(0);
    expect(err).toBe('');
    const records = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => [path.basename(r.file), r.ok, r.format, r.sample_rate, r.channels])).toEqual([
      ['digit-8k.wav', true, 'wav', 8000, 1],
      ['digit-8k.flac', true, 'flac', 8000, 1],
      ['digit-8k.mp3', true, 'mp3', 8000, 1],
      ['pcm16-stereo-44100.wav', true, 'wav', 44100, 2],
    ]);
    expect(Object.keys(records[0])).toEqual(['file', 'ok', 'format', 'sample_rate', 'channels', 'duration_s', 'peak', 'rms']);
    expect(records[0].duration_s).toBeCloseTo(4008 / 8000, 12);
    expect(records[3].duration_s).toBeCloseTo(0.1, 12);
  });

  it('reports every file, bad ones with an error and no stack trace, then exits non-zero', async () => {
    const empty = path.join(tmp, 'empty.wav');
    fs.writeFileSync(empty, '');
    const text = path.join(tmp, 'notes.mp3');
    fs.writeFileSync(text, 'not audio at all');
    const files = [empty, good[0], text, path.join(tmp, 'missing.flac'), good[1]];
    const { out, err, code } = await run(['audio-info', '--json', ...files]);
    expect(code).toBe(1);
    expect(err).toBe('');
    const records = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => r.file)).toEqual(files);
    expect(records.map((r) => r.ok)).toEqual([false, true, false, false, true]);
    expect(records[0]).toEqual({
      file: empty,
      ok: false,
      format: null,
      sample_rate: null,
      channels: null,
      duration_s: null,
      peak: null,
      rms: null,
      error: 'empty file (0 bytes)',
    });
    expect(records[2].error).toMatch(/^unsupported format/);
    expect(records[3].error).toBe('cannot read: no such file');
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('prints one readable line per file without --json', async () => {
    const empty = path.join(tmp, 'empty2.wav');
    fs.writeFileSync(empty, '');
    const { out, code } = await run(['audio-info', good[0], empty, good[3]]);
    expect(code).toBe(1);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ok\s+wav\s+8000 Hz\s+1 ch\s+0\.501 s\s+peak\s+-7\.1 dBFS\s+rms\s+-23\.8 dBFS\s+.*digit-8k\.wav$/);
    expect(lines[1]).toBe(`FAIL  ${empty}: empty file (0 bytes)`);
    expect(lines[2]).toMatch(/^ok\s+wav\s+44100 Hz\s+2 ch\s+0\.100 s/);
  });

  it('refuses a FIFO, a device, a directory and a 1 Hz WAV, each in its record, and goes on to the next file', async () => {
    const haveMkfifo = spawnSync('mkfifo', ['--version']).error === undefined;
    const fifo = path.join(tmp, 'fifo.wav');
    if (haveMkfifo) execFileSync('mkfifo', [fifo]);
    const oneHz = path.join(tmp, 'one-hz.wav');
    const wav = fs.readFileSync(good[0]);
    wav.writeUInt32LE(1, 24); // the sample rate of a canonical 44-byte header
    fs.writeFileSync(oneHz, wav);
    const files = [...(haveMkfifo ? [fifo] : []), '/dev/zero', tmp, oneHz, path.join(tmp, 'caf\uFFFD.wav'), good[0]];
    let timer: NodeJS.Timeout | undefined;
    try {
      const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('audio-info hung')), 10000)));
      const { out, err, code } = await Promise.race([run(['audio-info', '--json', ...files]), hung]);
      expect([code, err]).toEqual([1, '']);
      const errors = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).error);
      expect(errors).toEqual([
        ...(haveMkfifo ? ['not a regular file (FIFO)'] : []),
        'not a regular file (character device)',
        'not a regular file (directory)',
        'unsupported sample rate: 1 Hz (wavprobe reads 1000 to 768000 Hz)',
        'cannot read: no such file; the name contains U+FFFD, so it was probably not valid UTF-8',
        undefined,
      ]);
    } finally {
      clearTimeout(timer);
      if (haveMkfifo) releaseFifo(fifo);
    }
  });
});

/** Lets a reader stuck opening `fifo` (the bug under test) reach end-of-file, so that a failing run still ends. */
function releaseFifo(fifo: string): void {
  try {
    fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody is reading it
  }
}
