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
});
