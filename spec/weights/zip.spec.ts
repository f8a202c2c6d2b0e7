import * as fs from 'fs';
import * as path from 'path';
import { zipSync } from 'fflate';
import { CheckpointError } from '../../lib/errors';
import { ZipArchive, closeZip, openZip, readEntry, readStoredRange } from '../../lib/weights/zip';
import { BIN_MODELS, cleanupTmp, goldenDir, literal, tmpDir, writeZip, zipEntries } from './helpers';

afterAll(cleanupTmp);

const withZip = <T>(file: string, f: (z: ZipArchive) => T): T => {
  const z = openZip(file);
  try {
    return f(z);
  } finally {
    closeZip(z);
  }
};
const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64'); // compact exact compares
/** Every entry's bytes as read by lib/weights/zip.ts. */
const readAll = (file: string) => withZip(file, (z) => [...z.entries.values()].map((e) => [e.name, b64(readEntry(z, e))]));
const asBuffers = (entries: [string, Uint8Array][]) => entries.map(([n, d]) => [n, b64(d)]);

describe('zip reader', () => {
  it.each(BIN_MODELS)('lists and reads every entry of %s/pytorch_model.bin like fflate does', (m) => {
    const file = path.join(goldenDir(m), 'pytorch_model.bin');
    expect(readAll(file)).toEqual(asBuffers(zipEntries(file)));
  });

  it('reads a ZIP64 archive (sizes and offsets in ZIP64 extra fields, ZIP64 end record)', () => {
    const entries: [string, Uint8Array][] = [
      ['a/data.pkl', new Uint8Array([1, 2, 3])],
      ['a/data/0', new Uint8Array(1000).map((_, i) => i % 256)],
    ];
    const f = path.join(tmpDir(), 'z64.zip');
    writeZip(f, entries, { zip64: true, padding: 37 });
    expect(readAll(f)).toEqual(asBuffers(entries));
    withZip(f, (z) => expect([...readStoredRange(z, z.entries.get('a/data/0')!, 300, 4)]).toEqual([44, 45, 46, 47]));
  });

  it('inflates DEFLATE entries', () => {
    const data = new Uint8Array(5000).map((_, i) => (i * 31) % 7);
    const f = path.join(tmpDir(), 'deflate.zip');
    fs.writeFileSync(f, zipSync({ 'x/data.pkl': [data, { level: 6 }] }));
    withZip(f, (z) => {
      const e = z.entries.get('x/data.pkl')!;
      expect(e.method).toBe(8);
      expect(e.compressedSize).toBeLessThan(5000);
      expect(Buffer.from(readEntry(z, e))).toEqual(Buffer.from(data));
      expect(() => readStoredRange(z, e, 0, 4)).toThrow(/is compressed; cannot read a byte range/);
    });
  });

  it('rejects files that are not zips, truncated zips and reads past an entry, naming the file', () => {
    const d = tmpDir();
    const notZip = path.join(d, 'random.bin');
    fs.writeFileSync(notZip, Buffer.alloc(3000, 0x5a));
    expect(() => openZip(notZip)).toThrow(CheckpointError);
    expect(() => openZip(notZip)).toThrow(new RegExp(`^${literal(notZip)}: not a zip file \\(no end-of-central-directory record\\)`));
    const full = fs.readFileSync(path.join(goldenDir('hubert_base_tiny'), 'pytorch_model.bin'));
    const cut = path.join(d, 'cut.bin');
    fs.writeFileSync(cut, full.subarray(0, full.length - 200)); // loses the end record
    expect(() => openZip(cut)).toThrow(/not a zip file/);
    fs.writeFileSync(cut, Buffer.concat([full.subarray(0, 5000), full.subarray(full.length - 3000)])); // directory points past the data
    expect(() => openZip(cut)).toThrow(/outside the file|truncated|bad central directory|bad local header/);
    expect(() => openZip(path.join(d, 'absent.bin'))).toThrow(/cannot open: ENOENT/);
    withZip(path.join(goldenDir('hubert_base_tiny'), 'pytorch_model.bin'), (z) => {
      const e = z.entries.get('pytorch_model/data/0')!;
      expect(() => readStoredRange(z, e, e.size - 2, 4)).toThrow(/past its \d+ bytes/);
    });
  });
});

describe('zip reader: lengths that run past the central directory (found by the fuzz suite)', () => {
  const patched = (zip64: boolean, at: number) => {
    const f = path.join(tmpDir(), 'long.zip');
    writeZip(f, [['a/data.pkl', new Uint8Array(4)]], { zip64 });
    const b = fs.readFileSync(f);
    b.writeUInt16LE(0xffff, b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + at);
    fs.writeFileSync(f, b);
    return f;
  };

  it('a record whose extra field length runs past the directory', () => {
    expect(() => openZip(patched(false, 30))).toThrow(/bad central directory record 0: longer than the directory/);
  });

  it('an extra field whose own length runs past its record', () => {
    expect(() => openZip(patched(true, 46 + 'a/data.pkl'.length + 2))).toThrow(/entry "a\/data.pkl": extra field longer than its record/);
  });
});

// Issue 14, class 6: one file must mean one model, whoever reads it.
describe('zip reader: ambiguous archives', () => {
  it('refuses duplicate entry names (PyTorch reads the first, a map keeps the last)', () => {
    const f = path.join(tmpDir(), 'dup.zip');
    writeZip(f, [
      ['a/data.pkl', new Uint8Array([1])],
      ['a/data/0', new Uint8Array(4)],
      ['a/data.pkl', new Uint8Array([2])],
    ]);
    expect(() => openZip(f)).toThrow(new RegExp(`^${literal(f)}: duplicate entry "a/data.pkl"`));
  });

  it('refuses entries whose bytes overlap (two names for one storage)', () => {
    const f = path.join(tmpDir(), 'overlap.zip');
    writeZip(f, [
      ['a/data/0', new Uint8Array(8)],
      ['a/data/1', new Uint8Array(8)],
    ]);
    const b = fs.readFileSync(f);
    b.writeUInt32LE(0, b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 42); // the second entry's local header := the first's
    fs.writeFileSync(f, b);
    expect(() => openZip(f)).toThrow(/entries "a\/data\/0" and "a\/data\/1" overlap/);
  });
});
