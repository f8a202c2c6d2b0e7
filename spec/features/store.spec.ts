import * as fs from 'fs';
import * as path from 'path';
import { writeNpy } from '../../lib/features/npy';
import { layerFile, listLayers, readStore, writeStore } from '../../lib/features/store';
import { DataError } from '../../lib/errors';
import { gaussianStore, tmpDir } from '../helpers/probe';

describe('feature store', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes and reads back index, layers and meta', () => {
    const { X, y } = gaussianStore(dir, { n: 20, nSpoof: 5, d: 3 });
    expect(fs.readdirSync(dir).sort()).toEqual(['index.csv', 'layer_00.npy', 'layer_01.npy', 'meta.json']);
    expect(listLayers(dir)).toEqual([0, 1]);
    const s = readStore(dir, { layers: [1] });
    expect([...s.layers.keys()]).toEqual([1]);
    expect(s.layers.get(1)).toEqual(X);
    expect(s.labels).toEqual(y);
    expect(s.header).toEqual(['id', 'label', 'speaker']);
    expect(s.index[3]).toEqual({ id: 'utt3', label: 'spoof', speaker: 's3' });
    expect(s.meta).toEqual({ model: 'test/model', layers: [0, 1], pooling: 'mean' });
    expect(readStore(dir).layers.size).toBe(2);
  });

  it('accepts a store with only index.csv and layer files', () => {
    fs.writeFileSync(path.join(dir, 'index.csv'), 'id,label\na,bona-fide\n"b,2",spoof\n');
    writeNpy(layerFile(dir, 12), Float32Array.from([1, 2, 3, 4]), [2, 2]);
    const s = readStore(dir);
    expect(s.meta).toBeNull();
    expect(s.index.map((r) => r.id)).toEqual(['a', 'b,2']);
    expect(s.layers.get(12)!.d).toBe(2);
  });

  const bad = (setup: () => void, re: RegExp) => {
    setup();
    let err: unknown;
    try {
      readStore(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(re);
  };

  it('names the layer file and the position of a NaN or Inf', () => {
    bad(() => {
      gaussianStore(dir, { n: 10, nSpoof: 5, d: 3 });
      const data = new Float32Array(30).fill(1);
      data[3 * 4 + 2] = NaN;
      writeNpy(layerFile(dir, 1), data, [10, 3]);
    }, /layer_01\.npy: non-finite value NaN at row 4, column 2/);
    bad(() => {
      const data = new Float32Array(30).fill(1);
      data[0] = -Infinity;
      writeNpy(layerFile(dir, 1), data, [10, 3]);
    }, /layer_01\.npy: non-finite value -Infinity at row 0, column 0/);
  });

  it('rejects an empty store, a missing index, no layers, row mismatches and bad labels', () => {
    bad(() => fs.writeFileSync(path.join(dir, 'index.csv'), 'id,label\n'), /index\.csv: empty feature store: index\.csv has no rows/);
    bad(() => fs.writeFileSync(path.join(dir, 'index.csv'), 'id,label\na,spoof\n'), /no layer_NN\.npy files/);
    bad(() => writeNpy(layerFile(dir, 0), new Float32Array(4), [2, 2]), /layer_00\.npy: 2 rows, index\.csv has 1/);
    bad(() => fs.writeFileSync(path.join(dir, 'index.csv'), 'id,label\na,fake\nb,spoof\n'), /index\.csv: row 2: label "fake" is neither/);
    bad(() => fs.writeFileSync(path.join(dir, 'index.csv'), 'id,klass\na,spoof\nb,spoof\n'), /index\.csv: missing column\(s\) label/);
    fs.rmSync(path.join(dir, 'index.csv'));
    bad(() => undefined, /not a feature store: index\.csv is missing/);
    expect(() => readStore(path.join(dir, 'nope'))).toThrow(/nope: feature store directory not found/);
  });

  it('names a layer that is not in the store', () => {
    gaussianStore(dir, { n: 10, nSpoof: 5, d: 3 });
    expect(() => readStore(dir, { layers: [7] })).toThrow(/layer 7 is not in the feature store \(it has 0…1\)/);
  });

  it('refuses to write layers whose row count differs from the index', () => {
    expect(() =>
      writeStore(dir, { index: [{ id: 'a', label: 'spoof' }], layers: new Map([[0, { data: new Float32Array(4), n: 2, d: 2 }]]) }),
    ).toThrow(/layer 0 is \[2, 2\] with 4 values, index has 1 rows/);
  });
});
