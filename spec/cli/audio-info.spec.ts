/** `wavprobe audio-info`, run in-process through main(): output lines, JSON records, exit code. */
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
    const records = out.trim().split('\n').map((l) => JSON.parse(l));
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
    const records = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => r.file)).toEqual(files);
    expect(records.map((r) => r.ok)).toEqual([false, true, false, false, true]);
    expect(records[0]).toEqual({ file: empty, ok: false, format: null, sample_rate: null, channels: null, duration_s: null, peak: null, rms: null, error: 'empty file (0 bytes)' });
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
});
