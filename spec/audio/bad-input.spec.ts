/** Every kind of bad input becomes an AudioDecodeError that names the file and the problem. */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { audioInfo, decodeAudio, loadAudio, LoadOptions, resample } from '../../lib/audio';
import * as resampleModule from '../../lib/audio/resample';
import { AudioDecodeError, WavprobeError } from '../../lib/errors';

const FIXTURES = path.join(__dirname, '../fixtures/audio');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-audio-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A canonical 44-byte-header WAV around `data`. */
function wav(data: Buffer, { tag = 1, channels = 1, rate = 8000, bits = 16 } = {}): Buffer {
  const block = channels * Math.ceil(bits / 8);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(tag, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * block, 28);
  h.writeUInt16LE(block, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

const pcm16 = (values: number[]) => Buffer.from(new Int16Array(values).buffer);
const float32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);
const ramp = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % 200) - 100);

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** loadAudio(file) must reject with an AudioDecodeError naming the file, whose reason matches, within 5 s. */
async function expectRefused(name: string, bytes: Uint8Array | null, reason: RegExp, opts?: LoadOptions): Promise<void> {
  const file = bytes ? write(name, bytes) : path.resolve(tmp, name);
  const err = await within(
    5000,
    loadAudio(file, opts).then(
      () => undefined,
      (e: unknown) => e,
    ),
  );
  expect(err).toBeInstanceOf(AudioDecodeError);
  const e = err as AudioDecodeError;
  expect(e.file).toBe(file);
  expect(e.message).toBe(`${file}: ${e.reason}`);
  expect(e.reason).toMatch(reason);
}

/** `promise`, or a rejection after `ms` (a hung read must fail the test, not the whole run). */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('bad input', () => {
  it('empty file', () => expectRefused('empty.wav', Buffer.alloc(0), /^empty file \(0 bytes\)$/));

  it('missing file', () => expectRefused('missing.wav', null, /^cannot read: no such file$/));

  it('missing file whose name holds U+FFFD (what a name that is not UTF-8 becomes on the command line)', () =>
    expectRefused('caf\uFFFD.wav', null, /^cannot read: no such file; the name contains U\+FFFD, so it was probably not valid UTF-8$/));

  describe('truncated header', () => {
    const good = wav(pcm16(ramp(1000)));
    it('RIFF header cut short', () => expectRefused('riff.wav', good.subarray(0, 8), /^truncated WAV header \(8 bytes\)$/));
    it('fmt chunk cut short', () => expectRefused('fmt.wav', good.subarray(0, 30), /^truncated WAV header: the 'fmt ' chunk runs past the end/));
    it('no data chunk', () => expectRefused('nodata.wav', good.subarray(0, 36), /^no data chunk$/));
    it('data chunk cut short', () =>
      expectRefused('data.wav', good.subarray(0, 1000), /^truncated: the data chunk declares 2000 bytes, the file holds 956$/));
    it('FLAC header cut short', () => expectRefused('h.flac', fixture('digit-8k.flac').subarray(0, 20), /^truncated FLAC header \(20 bytes\)$/));
    it('FLAC cut after its header', () =>
      expectRefused('half.flac', fixture('digit-8k.flac').subarray(0, 2000), /^truncated or corrupt FLAC: decoded 0 of the 4008 samples/));
    it('MP3 cut inside the first frame', () =>
      expectRefused('h.mp3', fixture('digit-8k.mp3').subarray(0, 4), /^truncated MP3: no whole audio frame$/));
    it('MP3 shorter than its Xing tag says', () =>
      expectRefused('half.mp3', fixture('digit-8k.mp3').subarray(0, 1440), /^truncated MP3: the Xing tag declares 2880 bytes, the file has 1440$/));
    it('ID3 tag cut short', () =>
      expectRefused('id3.mp3', Buffer.from('ID3\x04\0\0\0\0\x10\0xxxx', 'latin1'), /^truncated: the ID3 tag declares 2058 bytes/));
  });

  describe('unsupported format or codec', () => {
    it('A-law WAV', () =>
      expectRefused('alaw.wav', wav(Buffer.alloc(1000, 0xd5), { tag: 6, bits: 8 }), /^unsupported WAV codec: format tag 0x0006 \(A-law\)/));
    it('12-bit float WAV', () => expectRefused('f12.wav', wav(Buffer.alloc(1000), { tag: 3, bits: 16 }), /^unsupported WAV codec: 16-bit float$/));
    it('WAVE_FORMAT_EXTENSIBLE with a non-PCM sub-format', () => {
      const ext = fixture('extensible-float32-mono-32000.wav');
      const b = Buffer.from(ext);
      b.write('\x01\x02', 20 + 8 + 26, 'latin1'); // damage the sub-format GUID after its tag
      return expectRefused('ext.wav', b, /^unsupported WAV codec: WAVE_FORMAT_EXTENSIBLE with a non-PCM sub-format GUID$/);
    });
    it('Ogg', () => expectRefused('x.ogg', Buffer.from('OggS\0\x02' + '\0'.repeat(60), 'latin1'), /^unsupported format: Ogg/));
    it('RIFF that is not WAVE', () =>
      expectRefused('x.avi', Buffer.from('RIFF\x10\0\0\0AVI LIST'), /^unsupported format: RIFF form 'AVI ', not WAVE$/));
    it('text', () =>
      expectRefused(
        'notes.wav',
        Buffer.from('just some text, not audio\n'),
        /^unsupported format: not WAV, FLAC or MP3 \(starts with 0x6a75737420736f6d\)$/,
      ));
  });

  describe('NaN/Inf samples', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10) * 0.5);
    it('NaN', () =>
      expectRefused(
        'nan.wav',
        wav(float32(samples.map((v, i) => (i === 5 ? NaN : v))), { tag: 3, bits: 32 }),
        /^non-finite sample value NaN at sample 5 \(0\.001 s\)$/,
      ));
    it('Inf, in a second channel', () =>
      expectRefused(
        'inf.wav',
        wav(float32(samples.map((v, i) => (i === 801 ? -Infinity : v))), { tag: 3, bits: 32, channels: 2 }),
        /^non-finite sample value -Infinity at sample 400 \(0\.050 s\), channel 1$/,
      ));
    it('float64 beyond float32 range', () => {
      const data = Buffer.from(new Float64Array([0.1, 1e300, 0.1, ...samples]).buffer);
      return expectRefused('big.wav', wav(data, { tag: 3, bits: 64 }), /^non-finite sample value Infinity at sample 1 /);
    });
  });

  describe('zero-length audio', () => {
    it('WAV', () => expectRefused('zero.wav', wav(Buffer.alloc(0)), /^zero-length audio \(no samples\)$/));
    it('FLAC', () => {
      // 'fLaC' + the only metadata block, STREAMINFO: blocks 4096, 16 kHz, mono, 16-bit, 0 samples, no frames
      const streamInfo = Buffer.from('1000100000000000000003e800f000000000' + '00'.repeat(16), 'hex');
      return expectRefused('zero.flac', Buffer.concat([Buffer.from('fLaC\x80\0\0\x22', 'latin1'), streamInfo]), /^zero-length audio \(no samples\)$/);
    });
  });

  describe('shorter than the 400-sample receptive field at 16 kHz', () => {
    const short = wav(pcm16(ramp(150))); // 150 samples at 8 kHz -> 300 at 16 kHz
    it('is refused by default', () =>
      expectRefused('short.wav', short, /^too short: 300 samples at 16000 Hz \(0\.0187 s\); the model needs at least 400 \(pad: true zero-pads\)$/));
    it('is refused against a custom minimum', () => expectRefused('short2.wav', wav(pcm16(ramp(300))), /at least 1000/, { minSamples: 1000 }));

    it('pad: true zero-pads at the end to 400 samples', async () => {
      const audio = await loadAudio(write('short-pad.wav', short), { pad: true });
      expect(audio.samples.length).toBe(400);
      const unpadded = resample(new Float32Array(ramp(150).map((v) => v / 32768)), 8000, 16000);
      expect(audio.samples.subarray(0, 300)).toEqual(unpadded);
      expect(audio.samples.subarray(300).every((v) => v === 0)).toBe(true);
      expect(audio.durationS).toBeCloseTo(150 / 8000, 12);
    });

    it('exactly 400 samples is accepted as is', async () => {
      expect((await loadAudio(write('just.wav', wav(pcm16(ramp(200)))))).samples.length).toBe(400);
    });
  });
});

describe('format is sniffed from the bytes, not the extension', () => {
  it.each([
    ['digit-8k.flac', 'flac-named.wav', 'flac'],
    ['digit-8k.mp3', 'mp3-named.flac', 'mp3'],
    ['digit-8k.wav', 'wav-named.mp3', 'wav'],
  ])('%s saved as %s decodes as %s', async (src, name, format) => {
    const d = await decodeAudio(fixture(src), name);
    expect(d.format).toBe(format);
    expect(d.channels[0].length).toBe(4008);
  });

  it('an ID3v2 tag before FLAC or MP3 is skipped', async () => {
    const id3 = Buffer.concat([Buffer.from('ID3\x04\0\0\0\0\0\x0a', 'latin1'), Buffer.alloc(10)]);
    const wavSamples = (await decodeAudio(fixture('digit-8k.wav'), 'w')).channels;
    expect((await decodeAudio(Buffer.concat([id3, fixture('digit-8k.flac')]), 'tagged.flac')).channels).toEqual(wavSamples);
    expect((await decodeAudio(Buffer.concat([id3, fixture('digit-8k.mp3')]), 'tagged.mp3')).channels[0].length).toBe(4008);
  });
});

describe('batch: audioInfo records the error and carries on', () => {
  it('reports each file without throwing', async () => {
    const files = [
      write('b-good.wav', fixture('digit-8k.wav')),
      write('b-empty.wav', Buffer.alloc(0)),
      write('b-nan.wav', wav(float32([0.1, NaN, ...Array(998).fill(0.1)]), { tag: 3, bits: 32 })),
      write('b-short.wav', wav(pcm16(ramp(100)))),
      path.join(tmp, 'b-missing.wav'),
      write('b-good.flac', fixture('digit-8k.flac')),
    ];
    const infos = [];
    for (const f of files) infos.push(await audioInfo(f));
    expect(infos.map((r) => r.ok)).toEqual([true, false, false, false, false, true]);
    expect(infos[0]).toEqual({
      file: files[0],
      ok: true,
      format: 'wav',
      sample_rate: 8000,
      channels: 1,
      duration_s: 4008 / 8000,
      peak: expect.any(Number),
      rms: expect.any(Number),
    });
    expect(infos[1]).toMatchObject({ ok: false, format: null, sample_rate: null, error: 'empty file (0 bytes)' });
    expect(infos[2]).toMatchObject({ ok: false, format: 'wav', peak: null, error: expect.stringMatching(/^non-finite sample value NaN/) });
    expect(infos[3]).toMatchObject({
      ok: false,
      format: 'wav',
      sample_rate: 8000,
      channels: 1,
      duration_s: 100 / 8000,
      error: expect.stringMatching(/^too short/),
    });
    expect(infos[4]).toMatchObject({ ok: false, error: 'cannot read: no such file' });
    expect(infos[5]).toMatchObject({ ok: true, format: 'flac', peak: infos[0].peak, rms: infos[0].rms });
    expect(await audioInfo(files[3], { pad: true })).toMatchObject({ ok: true });
  });
});

describe('sample rates outside 1000 … 768000 Hz', () => {
  // Cut inside the data chunk: the rate must be refused from the header, before the samples are read
  it.each([0, 1, 8, 999, 768001, 3000017, 10000019])('%i Hz is refused from the WAV header', (rate) =>
    expectRefused(
      `rate-${rate}.wav`,
      wav(pcm16(ramp(1000)), { rate }).subarray(0, 100),
      new RegExp(`^unsupported sample rate: ${rate} Hz \\(wavprobe reads 1000 to 768000 Hz\\)$`),
    ),
  );

  it('a FLAC whose STREAMINFO declares 500 Hz is refused before decoding', () => {
    const b = Buffer.from(fixture('digit-8k.flac'));
    // STREAMINFO starts at byte 8; its 20-bit rate is in bytes 10..12 of the block
    b[18] = 0x00;
    b[19] = 0x1f;
    b[20] = (b[20] & 0x0f) | 0x40;
    return expectRefused('rate-500.flac', b, /^unsupported sample rate: 500 Hz \(wavprobe reads 1000 to 768000 Hz\)$/);
  });

  it('1000 Hz and 768000 Hz (the ends of the range) load', async () => {
    expect((await loadAudio(write('rate-1000.wav', wav(pcm16(ramp(100)), { rate: 1000 })))).samples.length).toBe(1600);
    expect((await loadAudio(write('rate-768000.wav', wav(pcm16(ramp(48000)), { rate: 768000 })))).samples.length).toBe(1000);
  });

  it("a 1 Hz file in a batch is that file's error, and the next file is still loaded", async () => {
    const files = [write('batch-1hz.wav', wav(pcm16(ramp(300000)), { rate: 1 })), write('batch-after.wav', fixture('digit-8k.wav'))];
    const results: (number | string)[] = [];
    for (const file of files) {
      // what detect and extract do per file
      try {
        results.push((await loadAudio(file)).samples.length);
      } catch (e) {
        if (!(e instanceof WavprobeError)) throw e;
        results.push(e.reason);
      }
    }
    expect(results).toEqual(['unsupported sample rate: 1 Hz (wavprobe reads 1000 to 768000 Hz)', 8016]);
  });
});

describe('WAV header fields the file controls', () => {
  const patched = (patch: (b: Buffer) => void, data = pcm16(ramp(1000))) => {
    const b = wav(data);
    patch(b);
    return b;
  };
  it.each<[string, (b: Buffer) => void, RegExp]>([
    ['0 channels', (b) => b.writeUInt16LE(0, 22), /^malformed fmt chunk: 0 channels$/],
    ['block align 0', (b) => b.writeUInt16LE(0, 32), /^malformed fmt chunk: block align 0 for 1 channels of 16 bits$/],
    ['0 bits per sample', (b) => b.writeUInt16LE(0, 34), /^unsupported WAV codec: 0-bit PCM$/],
    ['33 bits per sample', (b) => b.writeUInt16LE(33, 34), /^unsupported WAV codec: 33-bit PCM$/],
    ['sample rate 0', (b) => b.writeUInt32LE(0, 24), /^unsupported sample rate: 0 Hz/],
    ['sample rate 2^32 - 1', (b) => b.writeUInt32LE(0xffffffff, 24), /^unsupported sample rate: 4294967295 Hz/],
    [
      'a data size past the end of the file',
      (b) => b.writeUInt32LE(0xfffffff0, 40),
      /^truncated: the data chunk declares 4294967280 bytes, the file holds 2000$/,
    ],
    [
      'a fmt size past the end of the file',
      (b) => b.writeUInt32LE(0xfffffff0, 16),
      /^truncated WAV header: the 'fmt ' chunk runs past the end of the file$/,
    ],
  ])('%s: a clean error', (name, patch, reason) => expectRefused(`hdr-${name.replace(/\W+/g, '-')}.wav`, patched(patch), reason));

  it('65535 channels decode in memory proportional to the file', async () => {
    const file = write('hdr-65535ch.wav', wav(Buffer.alloc(65535 * 20, 0x90), { channels: 65535, bits: 8 }));
    const audio = await within(5000, loadAudio(file, { pad: true }));
    expect([audio.channels, audio.samples.length]).toEqual([65535, 400]);
  });

  it('odd bit depths (7 bits in a byte, 12 in two) are read from their containers', async () => {
    const seven = await decodeAudio(wav(Buffer.from([0x80, 0xc0, 0x40]), { bits: 7 }), 'seven.wav');
    expect(Array.from(seven.channels[0])).toEqual([0, 0.5, -0.5]);
    const twelve = await decodeAudio(wav(pcm16([0x4000, -0x8000]), { bits: 12 }), 'twelve.wav');
    expect(Array.from(twelve.channels[0])).toEqual([0.5, -1]);
  });
});

describe('one bad file never stops a batch', () => {
  afterEach(() => jest.restoreAllMocks());

  it('any exception while decoding or resampling becomes an AudioDecodeError naming the file', async () => {
    jest.spyOn(resampleModule, 'resample').mockImplementation(() => {
      throw new RangeError('Invalid typed array length: 4800000000');
    });
    await expectRefused('resample-throws.wav', fixture('digit-8k.wav'), /^cannot decode: RangeError: Invalid typed array length: 4800000000$/);
  });

  it("audioInfo records a decoder's internal error instead of throwing", async () => {
    const b = Buffer.from(fixture('digit-8k.wav'));
    jest.spyOn(DataView.prototype, 'getInt16').mockImplementation(() => {
      throw new RangeError('Offset is outside the bounds of the DataView');
    });
    expect(await audioInfo(write('decoder-throws.wav', b))).toMatchObject({
      ok: false,
      format: null,
      error: 'cannot decode: RangeError: Offset is outside the bounds of the DataView',
    });
  });
});

// The refusal must come before the file is opened: opening a FIFO blocks until a writer comes, reading a device never ends
describe('not a regular file', () => {
  const haveMkfifo = spawnSync('mkfifo', ['--version']).error === undefined;

  (haveMkfifo ? it : it.skip)('a FIFO, also behind a symlink, is refused at once', async () => {
    const fifo = path.join(tmp, 'fifo.wav');
    execFileSync('mkfifo', [fifo]);
    fs.symlinkSync(fifo, path.join(tmp, 'fifo-link.wav'));
    try {
      await expectRefused('fifo.wav', null, /^not a regular file \(FIFO\)$/);
      await expectRefused('fifo-link.wav', null, /^not a regular file \(FIFO\)$/);
      expect(await within(5000, audioInfo(fifo))).toMatchObject({ ok: false, error: 'not a regular file (FIFO)' });
    } finally {
      releaseFifo(fifo);
    }
  });

  it('a character device is refused', () => expectRefused('/dev/zero', null, /^not a regular file \(character device\)$/));

  it('a directory is refused', () => {
    fs.mkdirSync(path.join(tmp, 'dir.wav'));
    return expectRefused('dir.wav', null, /^not a regular file \(directory\)$/);
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
