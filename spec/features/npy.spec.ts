import * as fs from 'fs';
import * as path from 'path';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../../lib/features/npy';
import { FIXTURES } from '../helpers/fixtures';
import { tmpDir } from '../helpers/probe';

const NPY = path.join(FIXTURES, 'npy');
const file = (name: string) => path.join(NPY, name);

describe('npy', () => {
  it('reads float32 arrays written by NumPy (2-D, 1-D, empty, format 2.0)', () => {
    const a = readNpy(file('f4_3x4.npy'));
    expect(a.shape).toEqual([3, 4]);
    expect(Array.from(a.data)).toEqual(JSON.parse(fs.readFileSync(file('values.json'), 'utf8')).f4_3x4);
    const b = readNpy(file('f4_5.npy'));
    expect(b.shape).toEqual([5]);
    expect(Array.from(b.data)).toEqual(Array.from(Float32Array.from([0, -1.5, 3.25, 1e-8, -7e12])));
    expect(readNpy(file('f4_0x7.npy')).shape).toEqual([0, 7]);
    expect(readNpy(file('f4_v2_2x2.npy'))).toEqual({ shape: [2, 2], data: Float32Array.from([1, 1, 1, 1]) });
  });

  it('writes byte for byte what NumPy writes', () => {
    for (const name of ['f4_3x4.npy', 'f4_5.npy', 'f4_0x7.npy']) {
      const ref = fs.readFileSync(file(name));
      const a = decodeNpy(ref, name);
      expect(Buffer.from(encodeNpy(a.data, a.shape)).equals(ref)).toBe(true);
    }
  });

  it('round-trips through a file', () => {
    const dir = tmpDir();
    const data = Float32Array.from({ length: 35 }, (_, i) => Math.sin(i));
    writeNpy(path.join(dir, 'x.npy'), data, [5, 7]);
    expect(readNpy(path.join(dir, 'x.npy'))).toEqual({ data, shape: [5, 7] });
    expect(fs.readdirSync(dir)).toEqual(['x.npy']); // no temp file left
    fs.rmSync(dir, { recursive: true });
  });

  it('rejects other dtypes, Fortran order, rank 3, bad magic and truncation with the file named', () => {
    expect(() => readNpy(file('f8_2x2.npy'))).toThrow(/f8_2x2\.npy: unsupported \.npy dtype <f8/);
    expect(() => readNpy(file('f4_fortran_2x3.npy'))).toThrow(/f4_fortran_2x3\.npy: Fortran-order/);
    expect(() => readNpy(file('f4_2x2x2.npy'))).toThrow(/1-D or 2-D array, got shape \(2, 2, 2\)/);
    expect(() => readNpy(file('values.json'))).toThrow(/values\.json: not a NumPy \.npy file/);
    const ref = fs.readFileSync(file('f4_3x4.npy'));
    expect(() => decodeNpy(ref.subarray(0, ref.length - 4), 'cut.npy')).toThrow(/cut\.npy: \.npy data is 44 bytes, shape \(3, 4\) needs 48/);
    expect(() => readNpy(file('missing.npy'))).toThrow(/missing\.npy: cannot read \.npy file \(ENOENT\)/);
  });

  describe('the header dict', () => {
    /** A v1.0 .npy around a header text (padding as NumPy writes it) and `values` float32 data. */
    const npy = (header: string, values: number[] = []): Uint8Array => {
      const h = Buffer.from(header + ' '.repeat(64 - ((10 + header.length + 1) % 64 || 64)) + '\n', 'latin1');
      const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
      pre.writeUInt16LE(h.length, 8);
      return Buffer.concat([pre, h, Buffer.from(Float32Array.from(values).buffer)]);
    };

    it('reads what other writers write: double quotes, no trailing comma, other key order, Python 2 longs', () => {
      expect(decodeNpy(npy(`{"descr": "<f4", "fortran_order": False, "shape": (2,)}`, [1, 2]), 'a').shape).toEqual([2]);
      expect(decodeNpy(npy(`{'shape': (1, 2), 'fortran_order': False, 'descr': '<f4'}`, [1, 2]), 'b').shape).toEqual([1, 2]);
      expect(decodeNpy(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }`, [1, 2]), 'c').shape).toEqual([2, 1]);
    });

    it('refuses keys inside other values, repeated or unknown keys, and text after the dict', () => {
      // the old regular expressions read the shape out of the string value: a silently wrong shape
      const hidden = `{'descr': '<f4', 'fortran_order': False, 'note': "'shape': (0,)", 'shape': (3,), }`;
      expect(() => decodeNpy(npy(hidden, [1, 2, 3]), 'h.npy')).toThrow(/h\.npy: malformed \.npy header \(unexpected key 'note'/);
      const twice = `{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }`;
      expect(() => decodeNpy(npy(twice, [1]), 't.npy')).toThrow(/key 'descr' repeats/);
      expect(() => decodeNpy(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x`, [1]), 'x.npy')).toThrow(/text after the dict/);
      expect(() => decodeNpy(npy(`{'descr': '<f4', 'shape': (1,), }`, [1]), 'm.npy')).toThrow(/no fortran_order/);
      expect(() => decodeNpy(npy(`{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }`, [1]), 'f.npy')).toThrow(/expected True or False/);
      expect(() => decodeNpy(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }`), 'n.npy')).toThrow(/expected a non-negative integer/);
    });

    it('refuses dimensions past 2^53, even of an empty array', () => {
      const huge = `{'descr': '<f4', 'fortran_order': False, 'shape': (0, 99999999999999999999999), }`;
      expect(() => decodeNpy(npy(huge), 'z.npy')).toThrow(/z\.npy: malformed \.npy header \(dimension 99999999999999999999999 is too large/);
    });

    it('refuses a format 2.0 file cut inside its header length, and headers over 64 KiB, at once', () => {
      const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
      expect(() => decodeNpy(Uint8Array.from([...magic, 2, 0, 0x10, 0]), 'cut.npy')).toThrow(/cut\.npy: truncated \.npy header \(10 bytes\)/);
      // a 1 MB header of unclosed "'shape': (": the old regular expression took 140 s over it
      const header = Buffer.from("{'descr': '<f4', 'fortran_order': False, " + "'shape': (".repeat(100_000), 'latin1');
      const pre = Buffer.from([...magic, 2, 0, 0, 0, 0, 0]);
      pre.writeUInt32LE(header.length, 8);
      const start = performance.now();
      expect(() => decodeNpy(Buffer.concat([pre, header]), 'big.npy')).toThrow(
        /big\.npy: \.npy header of 1000041 bytes is too large \(at most 65536\)/,
      );
      expect(performance.now() - start).toBeLessThan(100);
    });
  });
});
