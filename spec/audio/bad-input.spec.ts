/** Every kind of bad input becomes an AudioDecodeError that names the file and the problem. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { audioInfo, decodeAudio, loadAudio, LoadOptions, resample } from '../../lib/audio';
import { AudioDecodeError } from '../../lib/errors';

const FIXTURES = path.join(__dirname, '../fixtures/audio');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-audio-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A canonical 44-byte-header WAV around `data`. */
function wav(data: Buffer, { tag = 1, channels = 1, rate = 8000, bits = 16 } = {}): Buffer {
  const block = (channels * bits) / 8;
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

/** loadAudio(file) must reject with an AudioDecodeError naming the file, whose reason matches. */
async function expectRefused(name: string, bytes: Uint8Array | null, reason: RegExp, opts?: LoadOptions): Promise<void> {
  const file = bytes ? write(name, bytes) : path.join(tmp, name);
  const err = await loadAudio(file, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AudioDecodeError);
  const e = err as AudioDecodeError;
  expect(e.file).toBe(file);
  expect(e.message).toBe(`${file}: ${e.reason}`);
  expect(e.reason).toMatch(reason);
}

describe('bad input', () => {
  it('empty file', () => expectRefused('empty.wav', Buffer.alloc(0), /^empty file \(0 bytes\)$/));

  it('missing file', () => expectRefused('missing.wav', null, /^cannot read: no such file$/));

  describe('truncated header', () => {
    const good = wav(pcm16(ramp(1000)));
    it('RIFF header cut short', () => expectRefused('riff.wav', good.subarray(0, 8), /^truncated WAV header \(8 bytes\)$/));
    it('fmt chunk cut short', () => expectRefused('fmt.wav', good.subarray(0, 30), /^truncated WAV header: the 'fmt ' chunk runs past the end/));
    it('no data chunk', () => expectRefused('nodata.wav', good.subarray(0, 36), /^no data chunk$/));
    it('data chunk cut short', () => expectRefused('data.wav', good.subarray(0, 1000), /^truncated: the data chunk declares 2000 bytes, the file holds 956$/));
    it('FLAC header cut short', () => expectRefused('h.flac', fixture('digit-8k.flac').subarray(0, 20), /^truncated FLAC header \(20 bytes\)$/));
    it('FLAC cut after its header', () => expectRefused('half.flac', fixture('digit-8k.flac').subarray(0, 2000), /^truncated or corrupt FLAC: decoded 0 of the 4008 samples/));
    it('MP3 cut inside the first frame', () => expectRefused('h.mp3', fixture('digit-8k.mp3').subarray(0, 4), /^truncated MP3: no whole audio frame$/));
    it('MP3 shorter than its Xing tag says', () => expectRefused('half.mp3', fixture('digit-8k.mp3').subarray(0, 1440), /^truncated MP3: the Xing tag declares 2880 bytes, the file has 1440$/));
    it('ID3 tag cut short', () => expectRefused('id3.mp3', Buffer.from('ID3\x04\0\0\0\0\x10\0xxxx', 'latin1'), /^truncated: the ID3 tag declares 2058 bytes/));
  });

  describe('unsupported format or codec', () => {
    it('A-law WAV', () => expectRefused('alaw.wav', wav(Buffer.alloc(1000, 0xd5), { tag: 6, bits: 8 }), /^unsupported WAV codec: format tag 0x0006 \(A-law\)/));
    it('12-bit float WAV', () => expectRefused('f12.wav', wav(Buffer.alloc(1000), { tag: 3, bits: 16 }), /^unsupported WAV codec: 16-bit float$/));
    it('WAVE_FORMAT_EXTENSIBLE with a non-PCM sub-format', () => {
      const ext = fixture('extensible-float32-mono-32000.wav');
      const b = Buffer.from(ext);
      b.write('\x01\x02', 20 + 8 + 26, 'latin1'); // damage the sub-format GUID after its tag
      return expectRefused('ext.wav', b, /^unsupported WAV codec: WAVE_FORMAT_EXTENSIBLE with a non-PCM sub-format GUID$/);
    });
    it('Ogg', () => expectRefused('x.ogg', Buffer.from('OggS\0\x02' + '\0'.repeat(60), 'latin1'), /^unsupported format: Ogg/));
    it('RIFF that is not WAVE', () => expectRefused('x.avi', Buffer.from('RIFF\x10\0\0\0AVI LIST'), /^unsupported format: RIFF form 'AVI ', not WAVE$/));
    it('text', () => expectRefused('notes.wav', Buffer.from('just some text, not audio\n'), /^unsupported format: not WAV, FLAC or MP3 \(starts with 0x6a75737420736f6d\)$/));
  });

  describe('NaN/Inf samples', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10) * 0.5);
    it('NaN', () => expectRefused('nan.wav', wav(float32(samples.map((v, i) => (i === 5 ? NaN : v))), { tag: 3, bits: 32 }), /^non-finite sample value NaN at sample 5 \(0\.001 s\)$/));
    it('Inf, in a second channel', () =>
      expectRefused('inf.wav', wav(float32(samples.map((v, i) => (i === 801 ? -Infinity : v))), { tag: 3, bits: 32, channels: 2 }), /^non-finite sample value -Infinity at sample 400 \(0\.050 s\), channel 1$/));
    it('float64 beyond float32 range', () => {
      const data = Buffer.from(new Float64Array([0.1, 1e300, 0.1, ...samples]).buffer);
      return expectRefused('big.wav', wav(data, { tag: 3, bits: 64 }), /^non-finite sample value Infinity at sample 1 /);
    });
  });

  describe('zero-length audio', () => {
    it('WAV', () => expectRefused('zero.wav', wav(Buffer.alloc(0)), /^zero-length audio \(no samples\)$/));
    it('FLAC', () => {
      // 'fLaC' + the only metadata block, STREAMINFO: blocks 4096, 16 kHz, mono, 16-bit, 0 samples, no frames
      const streamInfo = Buffer.from('10001000000000000003e800f00000000000' + '00'.repeat(16), 'hex');
      return expectRefused('zero.flac', Buffer.concat([Buffer.from('fLaC\x80\0\0\x22', 'latin1'), streamInfo]), /^zero-length audio \(no samples\)$/);
    });
  });

  describe('shorter than the 400-sample receptive field at 16 kHz', () => {
    const short = wav(pcm16(ramp(150))); // 150 samples at 8 kHz -> 300 at 16 kHz
    it('is refused by default', () => expectRefused('short.wav', short, /^too short: 300 samples at 16000 Hz \(0\.0187 s\); the model needs at least 400 \(pad: true zero-pads\)$/));
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
    expect(infos[0]).toEqual({ file: files[0], ok: true, format: 'wav', sample_rate: 8000, channels: 1, duration_s: 4008 / 8000, peak: expect.any(Number), rms: expect.any(Number) });
    expect(infos[1]).toMatchObject({ ok: false, format: null, sample_rate: null, error: 'empty file (0 bytes)' });
    expect(infos[2]).toMatchObject({ ok: false, format: 'wav', peak: null, error: expect.stringMatching(/^non-finite sample value NaN/) });
    expect(infos[3]).toMatchObject({ ok: false, format: 'wav', sample_rate: 8000, channels: 1, duration_s: 100 / 8000, error: expect.stringMatching(/^too short/) });
    expect(infos[4]).toMatchObject({ ok: false, error: 'cannot read: no such file' });
    expect(infos[5]).toMatchObject({ ok: true, format: 'flac', peak: infos[0].peak, rms: infos[0].rms });
    expect(await audioInfo(files[3], { pad: true })).toMatchObject({ ok: true });
  });
});
