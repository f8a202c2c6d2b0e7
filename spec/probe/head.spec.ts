import * as fs from 'fs';
import * as path from 'path';
import { writeNpy } from '../../lib/features/npy';
import { layerFile, readStore, writeStore } from '../../lib/features/store';
import { DataError } from '../../lib/errors';
import { fitTemperature } from '../../lib/probe/calibration';
import { Head, headPrior, readHead, scoreHead, scoreStore, trainHead, writeHead } from '../../lib/probe/head';
import { stratifiedSplit } from '../../lib/probe/split';
import { gaussianStore, tmpDir } from '../helpers/probe';

const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error thrown');
};

describe('head', () => {
  let dir: string;
  let store: string;
  let data: ReturnType<typeof gaussianStore>;
  beforeAll(() => {
    dir = tmpDir();
    store = path.join(dir, 'train');
    data = gaussianStore(store, { n: 300, nSpoof: 180, d: 6, seed: 1 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains on a layer and records the training summary', () => {
    const head = trainHead(store, 1, { C: 1, standardize: true });
    expect(head).toMatchObject({
      format: 'wavprobe-head',
      version: 1,
      model: 'test/model',
      pooling: 'mean',
      layer: 1,
      temperature: 1,
      platt: null,
      calibration: null,
    });
    expect(head.training).toMatchObject({ n: 300, n_bona: 120, n_spoof: 180, dim: 6, prior_spoof: 0.6, C: 1, class_weight: null, converged: true });
    expect(head.weights).toHaveLength(6);
    expect(head.standardize!.mean).toHaveLength(6);
  });

  it('scores x as σ(w·((x − mean)/std) + b) / T', () => {
    const head = { ...trainHead(store, 1, { C: 1, standardize: true }), temperature: 2 };
    const { X } = data;
    const { logits, probs } = scoreHead(head, X.data, X.n, X.d);
    for (const i of [0, 17, 299]) {
      let z = head.bias;
      for (let j = 0; j < 6; j++) z += (head.weights[j] * (X.data[i * 6 + j] - head.standardize!.mean[j])) / head.standardize!.std[j];
      expect(logits[i]).toBeCloseTo(z, 10);
      expect(probs[i]).toBeCloseTo(1 / (1 + Math.exp(-z / 2)), 12);
    }
    const plattHead = { ...head, platt: { a: 0.5, b: 1 } };
    expect(scoreHead(plattHead, X.data, 1, 6).probs[0]).toBeCloseTo(1 / (1 + Math.exp(-(0.5 * logits[0] + 1))), 12);
  });

  it('calibrates on a stratified held-out fraction: temperature fit on the held-out logits only', () => {
    const head = trainHead(store, 1, { C: 1e6, calibrateOn: 0.25, seed: 3 });
    const split = stratifiedSplit(data.y, 0.25, 3);
    expect(head.training.n).toBe(split.train.length);
    expect(head.calibration).toMatchObject({ method: 'temperature', n: split.held.length, n_spoof: 45, n_bona: 30, prior_spoof: 45 / 75 });
    expect(headPrior(head)).toBe(45 / 75);
    expect(head.calibration!.source).toMatch(/held-out 0.25 of the training store \(seed 3\)/);
    const held = Array.from(split.held);
    const rows = Float32Array.from(held.flatMap((i) => Array.from(data.X.data.subarray(i * 6, i * 6 + 6))));
    const { logits } = scoreHead({ ...head, temperature: 1 }, rows, held.length, 6);
    expect(head.temperature).toBe(
      fitTemperature(
        logits,
        held.map((i) => data.y[i]),
      ),
    );
    expect(head.calibration!.after.nll).toBeLessThanOrEqual(head.calibration!.before.nll);
  });

  it('calibrates on another store, with Platt scaling when asked', () => {
    const other = path.join(dir, 'cal');
    gaussianStore(other, { n: 100, nSpoof: 50, d: 6, seed: 9 });
    const head = trainHead(store, 1, { calibrateOn: other, calibration: 'platt' });
    expect(head.training.n).toBe(300);
    expect(head.calibration).toMatchObject({ method: 'platt', n: 100, source: path.resolve(other) });
    expect(head.platt).not.toBeNull();
    expect(head.temperature).toBe(1);
  });

  it('writes and reads a head file (atomically, JSON with the documented keys)', () => {
    const head = trainHead(store, 0, { C: 10, standardize: true, calibrateOn: 0.2 });
    const file = path.join(dir, 'head.json');
    writeHead(file, head);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const k of ['weights', 'bias', 'standardize', 'temperature', 'model', 'layer', 'pooling', 'training', 'calibration'])
      expect(json).toHaveProperty(k);
    expect(readHead(file)).toEqual(head);
    const scored = scoreStore(head, store);
    const X = readStore(store, { layers: [0] }).layers.get(0)!;
    expect(scored.ids[0]).toBe('utt0');
    expect(scored.labels).toEqual(data.y);
    expect(scored.probs).toEqual(scoreHead(head, X.data, X.n, X.d).probs);
    scored.logits.forEach((z, i) => expect(scored.uncalibrated[i]).toBeCloseTo(1 / (1 + Math.exp(-z)), 14));
  });

  it("the head's spoof prior: the calibration data's, else the training data's (as class weights weigh it)", () => {
    const file = path.join(dir, 'old.json');
    const head = trainHead(store, 1, { C: 1, calibrateOn: 0.25 });
    // A head written before calibration.prior_spoof: read from its calibration counts.
    fs.writeFileSync(file, JSON.stringify({ ...head, calibration: { ...head.calibration, prior_spoof: undefined } }));
    expect(readHead(file).calibration!.prior_spoof).toBe(head.calibration!.n_spoof / head.calibration!.n);
    const uncalibrated = trainHead(store, 1, { C: 1 });
    expect(headPrior(uncalibrated)).toBe(0.6);
    const weighted = (class_weight: Head['training']['class_weight']) =>
      headPrior({ ...uncalibrated, training: { ...uncalibrated.training, class_weight } });
    expect(weighted('balanced')).toBeCloseTo(0.5, 12);
    // 180 spoofs × 1 against 120 bona fide × 3: 180/540.
    expect(weighted({ 0: 3, 1: 1 })).toBeCloseTo(1 / 3, 12);
  });

  it('rejects malformed head files, naming the file', () => {
    const file = path.join(dir, 'bad.json');
    const good = trainHead(store, 1, { C: 1 });
    const cases: [Partial<Head> | string, RegExp][] = [
      ['{not json', /cannot read head file/],
      [{ format: 'other' as never }, /"format" is not "wavprobe-head"/],
      [{ weights: [] }, /"weights" must be a non-empty array/],
      [{ temperature: 0 }, /"temperature" must be a finite number > 0/],
      [{ training: null as never }, /"training" must hold prior_spoof, n_bona and n_spoof/],
      [{ training: { ...good.training, class_weight: 'even' as never } }, /"training.class_weight" must be null, "balanced" or \{0, 1\}/],
      [{ calibration: 3 as never }, /"calibration" must be null or hold n, n_spoof and prior_spoof/],
      [{ training: { ...good.training, prior_spoof: 1 } }, /spoof prior .* must be in \(0, 1\), got 1/],
      [{ standardize: { mean: [1], std: [1] } }, /"standardize" must be null or \{mean, std\} with 6 values each/],
    ];
    for (const [patch, re] of cases) {
      fs.writeFileSync(file, typeof patch === 'string' ? patch : JSON.stringify({ ...good, ...patch }));
      const e = errorOf(() => readHead(file));
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
      expect(e.message).toMatch(re);
    }
  });

  describe('bad input', () => {
    it('NaN features: a DataError naming the layer file', () => {
      const bad = path.join(dir, 'nan');
      gaussianStore(bad, { n: 20, nSpoof: 10, d: 3 });
      const x = new Float32Array(60);
      x[31] = NaN;
      writeNpy(layerFile(bad, 1), x, [20, 3]);
      const e = errorOf(() => trainHead(bad, 1));
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toBe(`${layerFile(bad, 1)}: non-finite value NaN at row 10, column 1`);
    });

    it('Inf features in the calibration store: a DataError naming that file', () => {
      const cal = path.join(dir, 'inf');
      gaussianStore(cal, { n: 20, nSpoof: 10, d: 6 });
      const x = new Float32Array(120);
      x[0] = Infinity;
      writeNpy(layerFile(cal, 1), x, [20, 6]);
      expect(errorOf(() => trainHead(store, 1, { calibrateOn: cal })).message).toBe(
        `${layerFile(cal, 1)}: non-finite value Infinity at row 0, column 0`,
      );
    });

    it('a calibration store of another dimension: a DataError naming its layer file', () => {
      const wide = path.join(dir, 'wide');
      gaussianStore(wide, { n: 20, nSpoof: 10, d: 8 });
      expect(errorOf(() => trainHead(store, 1, { calibrateOn: wide })).message).toBe(
        `${layerFile(wide, 1)}: features have 8 dimensions, the training store has 6`,
      );
    });

    it('one class only: a DataError naming index.csv', () => {
      const one = path.join(dir, 'one');
      gaussianStore(one, { n: 20, nSpoof: 20, d: 3 });
      const e = errorOf(() => trainHead(one, 1));
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toBe(`${path.join(one, 'index.csv')}: training needs both classes, found only spoof (20 rows)`);
    });

    it('one class in the calibration store: a DataError naming its index.csv', () => {
      const one = path.join(dir, 'one-cal');
      gaussianStore(one, { n: 20, nSpoof: 0, d: 6 });
      expect(errorOf(() => trainHead(store, 1, { calibrateOn: one })).message).toBe(
        `${path.join(one, 'index.csv')}: calibration needs both classes, found only bona-fide (20 rows)`,
      );
    });

    it('empty store: a DataError naming index.csv', () => {
      const empty = path.join(dir, 'empty');
      fs.mkdirSync(empty);
      fs.writeFileSync(path.join(empty, 'index.csv'), 'id,label\n');
      writeNpy(layerFile(empty, 0), new Float32Array(0), [0, 4]);
      const e = errorOf(() => trainHead(empty, 0));
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toBe(`${path.join(empty, 'index.csv')}: empty feature store: index.csv has no rows`);
    });

    it('a head whose standardisation would divide by a denormal std, or overflow w/std, is refused when read', () => {
      // Both once scored every file as a confident "bona-fide" with p_spoof null (Infinity − Infinity = NaN).
      const file = path.join(dir, 'tiny-std.json');
      const good = trainHead(store, 1, { C: 1, standardize: true });
      const std = good.standardize!.std;
      for (const patched of [
        [5e-324, ...std.slice(1)],
        [0, ...std.slice(1)],
        [1e-309, ...std.slice(1)],
      ]) {
        fs.writeFileSync(file, JSON.stringify({ ...good, standardize: { ...good.standardize, std: patched } }));
        expect(() => readHead(file)).toThrow(
          `${file}: invalid head file: "standardize" must be null or {mean, std} with 6 values each, all finite, every std ≥ ${2 ** -1022} (not denormal) and weight/std finite`,
        );
      }
      fs.writeFileSync(
        file,
        JSON.stringify({ ...good, weights: [1e308, ...good.weights.slice(1)], standardize: { ...good.standardize, std: [1e-10, ...std.slice(1)] } }),
      );
      expect(() => readHead(file)).toThrow(/weight\/std finite/);
    });

    it("a store of another model than the head's is refused, naming both; --allow-model-mismatch overrides that, never the dimension", () => {
      const labelled = data.y.length;
      const withMeta = (name: string, model: string, fingerprint: string | null, d = 6) => {
        const out = path.join(dir, name);
        const X = readStore(store, { layers: [1] }).layers.get(1)!;
        const rows = readStore(store).index.slice(0, labelled);
        writeStore(out, {
          index: rows,
          layers: new Map([[1, d === 6 ? X : { data: new Float32Array(X.n * d), n: X.n, d }]]),
          meta: { model, model_fingerprint: fingerprint, layers: [1], pooling: 'mean' },
        });
        return out;
      };
      const trainedOn = withMeta('model-a', 'org/model-a@main', 'sha256:' + 'a'.repeat(64));
      const head = trainHead(trainedOn, 1, { C: 1 });
      expect([head.model, head.model_fingerprint]).toEqual(['org/model-a@main', 'sha256:' + 'a'.repeat(64)]);
      // Same fingerprint under another name (a moved or re-converted model): accepted.
      expect(scoreStore(head, withMeta('renamed', '/elsewhere/model-a', 'sha256:' + 'a'.repeat(64))).probs.length).toBe(labelled);
      const other = withMeta('model-b', 'org/model-b@main', 'sha256:' + 'b'.repeat(64));
      const e = errorOf(() => scoreStore(head, other));
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toBe(
        `${other}: the head was trained on features of org/model-a@main (sha256:aaaaaaaaaaaa…), these come from org/model-b@main (sha256:bbbbbbbbbbbb…); --allow-model-mismatch overrides this if they are the same model`,
      );
      expect(scoreStore(head, other, { allowModelMismatch: true }).probs.length).toBe(labelled);
      // Without fingerprints (stores written before them) the model ids decide.
      expect(() => scoreStore(head, withMeta('old-b', 'org/model-b@main', null))).toThrow(
        /trained on features of org\/model-a@main \(sha256:a+…\), these come from org\/model-b@main;/,
      );
      // The dimension is never overridden.
      expect(() => scoreStore(head, withMeta('wide', 'org/model-a@main', 'sha256:' + 'a'.repeat(64), 8), { allowModelMismatch: true })).toThrow(
        'features have 8 dimensions, the head expects 6',
      );
      // Calibrating on another model's store is refused the same way.
      expect(() => trainHead(trainedOn, 1, { C: 1, calibrateOn: other })).toThrow(/these come from org\/model-b@main/);
    });

    it('dimension mismatch between head and store: a DataError naming the layer file', () => {
      const head = trainHead(store, 1, { C: 1 });
      const narrow = path.join(dir, 'narrow');
      writeStore(narrow, {
        index: [
          { id: 'a', label: 'spoof' },
          { id: 'b', label: 'bona-fide' },
        ],
        layers: new Map([[1, { data: new Float32Array(8), n: 2, d: 4 }]]),
      });
      const e = errorOf(() => scoreStore(head, narrow));
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toBe(`${layerFile(narrow, 1)}: features have 4 dimensions, the head expects 6`);
    });
  });
});
