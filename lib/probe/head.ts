/**
 * The head file: a trained, calibrated detector on a feature set (feature-set.ts) of a feature store: one layer's
 * mean, layers side by side or averaged, with or without their stds.
 *   logit = w·((x − mean)/std) + bias   (or w·x + bias when `standardize` is null)
 *   P(spoof) = σ(logit / temperature)   (or σ(a·logit + b) when `platt` is set)
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic';
import { assertBothClasses, countClasses } from '../data/labels';
import { DataError } from '../errors';
import type { FeatureStore } from '../features/store';
import { brier, ece, nll } from '../metrics/calibration';
import { fitPlatt, fitTemperature, PlattParams } from './calibration';
import {
  FeatureMatrix,
  FeatureSet,
  deepestLayer,
  featureDim,
  featureSetError,
  featureSource,
  isSingleLayerMean,
  readFeatures,
  singleLayer,
} from './feature-set';
import { MinimizeOptions } from './lbfgs';
import { ClassWeight, sigmoid, trainLogReg } from './logreg';
import { stratifiedSplit } from './split';

export const HEAD_FORMAT = 'wavprobe-head';
export const DEFAULT_C = 1e6;

export interface CalibrationQuality {
  nll: number;
  ece_15: number;
  brier: number;
}

export interface Head {
  format: typeof HEAD_FORMAT;
  /** 1 for one layer's mean (readable by wavprobe before feature sets), 2 for any other feature set. */
  version: 1 | 2;
  model: string | null;
  /**
   * The fingerprint of the model the training features came from (lib/weights modelFingerprint): detect, eval
   * and probe refuse features of another model. null for features of unknown origin (and heads written before it).
   */
  model_fingerprint: string | null;
  /** The deepest layer the features need (the layer itself for one layer). */
  layer: number;
  /** What the weights apply to; a head file without it (written before feature sets) is `layer`'s mean. */
  features: FeatureSet;
  /** The store's pooling (meta.json), as recorded at training. */
  pooling: string | null;
  /** [D], applied to the standardised features when `standardize` is set */
  weights: number[];
  bias: number;
  standardize: { mean: number[]; std: number[] } | null;
  temperature: number;
  platt: PlattParams | null;
  training: {
    store: string;
    n: number;
    n_bona: number;
    n_spoof: number;
    dim: number;
    /** Fraction of spoofs in the training rows. */
    prior_spoof: number;
    C: number;
    class_weight: ClassWeight | null;
    objective: number;
    iterations: number;
    converged: boolean;
  };
  calibration: {
    method: 'temperature' | 'platt';
    /** A store directory, or `held-out <fraction> of the training store (seed <s>)`. */
    source: string;
    n: number;
    n_bona: number;
    n_spoof: number;
    /** Fraction of spoofs in the calibration rows: the prior the calibrated P(spoof) is fitted under. */
    prior_spoof: number;
    before: CalibrationQuality;
    after: CalibrationQuality;
  } | null;
}

/** Where features come from, as far as a head can tell: a store's meta.json, or a loaded model. */
export interface FeatureOrigin {
  model: string | null;
  fingerprint: string | null;
}

/**
 * Why features of `origin` are not what `head` was trained on, or null when they are (or cannot be told apart:
 * a fingerprint missing on either side falls back to the model ids, and to nothing when those are missing too).
 */
export function modelMismatch(head: Pick<Head, 'model' | 'model_fingerprint'>, origin: FeatureOrigin): string | null {
  const name = (model: string | null, fp: string | null) => `${model ?? 'an unknown model'}${fp ? ` (${fp.slice(0, 19)}…)` : ''}`;
  const differ =
    head.model_fingerprint && origin.fingerprint
      ? head.model_fingerprint !== origin.fingerprint
      : !!head.model && !!origin.model && head.model !== origin.model;
  return differ
    ? `the head was trained on features of ${name(head.model, head.model_fingerprint)}, these come from ${name(origin.model, origin.fingerprint)}`
    : null;
}

/** Throws a DataError naming `file` when `origin` is another model than the head's, unless `allow` is set. */
export function assertSameModel(head: Pick<Head, 'model' | 'model_fingerprint'>, origin: FeatureOrigin, file: string, allow = false): void {
  const why = modelMismatch(head, origin);
  if (why && !allow) throw new DataError(`${why}; --allow-model-mismatch overrides this if they are the same model`, file);
}

/** A store's origin as recorded in its meta.json. */
export const storeOrigin = (s: Pick<FeatureStore, 'meta'>): FeatureOrigin => ({
  model: typeof s.meta?.model === 'string' ? s.meta.model : null,
  fingerprint: typeof s.meta?.model_fingerprint === 'string' ? s.meta.model_fingerprint : null,
});

/** logits [n] and calibrated P(spoof) [n] for X [n, d]; `file` names the features in a dimension error. */
export function scoreHead(
  head: Head,
  X: Float32Array | Float64Array,
  n: number,
  d: number,
  file?: string,
): { logits: Float64Array; probs: Float64Array } {
  if (d !== head.weights.length) throw new DataError(`features have ${d} dimensions, the head expects ${head.weights.length}`, file);
  if (X.length < n * d) throw new DataError(`expected ${n}×${d} feature values, got ${X.length}`, file);
  const w = Float64Array.from(head.weights);
  const mean = head.standardize ? head.standardize.mean : new Array<number>(d).fill(0);
  const std = head.standardize ? head.standardize.std : new Array<number>(d).fill(1);
  const a = w.map((v, j) => v / std[j]); // weights on raw features
  const logits = new Float64Array(n);
  const probs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = head.bias;
    for (let j = 0; j < d; j++) z += a[j] * (X[i * d + j] - mean[j]);
    if (!Number.isFinite(z)) throw new DataError(`the head's logit is ${z} on row ${i} (features too large for the head)`, file);
    logits[i] = z;
    probs[i] = calibrate(head, z);
  }
  return { logits, probs };
}

export function calibrate(head: Pick<Head, 'temperature' | 'platt'>, logit: number): number {
  return head.platt ? sigmoid(head.platt.a * logit + head.platt.b) : sigmoid(logit / head.temperature);
}

function quality(probs: Float64Array, y: Uint8Array): CalibrationQuality {
  return { nll: nll(probs, y), ece_15: ece(probs, y, 15), brier: brier(probs, y) };
}

/** Rows `idx` of a [n, d] matrix, in its own precision. */
export function takeRows(m: FeatureMatrix, idx: ArrayLike<number>): FeatureMatrix {
  const { d } = m;
  const data = m.data instanceof Float64Array ? new Float64Array(idx.length * d) : new Float32Array(idx.length * d);
  for (let k = 0; k < idx.length; k++) data.set(m.data.subarray(idx[k] * d, (idx[k] + 1) * d), k * d);
  return { data, n: idx.length, d };
}

export interface TrainHeadOptions {
  C?: number;
  standardize?: boolean;
  classWeight?: ClassWeight | null;
  /** A feature store directory, or a fraction of the training store held out (stratified) to calibrate on. */
  calibrateOn?: string | number | null;
  calibration?: 'temperature' | 'platt';
  /** Seed of the held-out split. */
  seed?: number;
  /** Accept a calibration (or, in probe, evaluation) store extracted with another model. */
  allowModelMismatch?: boolean;
  onIteration?: MinimizeOptions['onIteration'];
}

/** Trains a head on a feature set (or one layer's mean) of a feature store and, when asked, calibrates it. */
export function trainHead(storeDir: string, featureSet: FeatureSet | number, opts: TrainHeadOptions = {}): Head {
  const set = typeof featureSet === 'number' ? singleLayer(featureSet) : featureSet;
  const { store, X: features } = readFeatures(storeDir, set);
  const origin = storeOrigin(store);
  const trainedOn = { model: origin.model, model_fingerprint: origin.fingerprint }; // recorded in the head
  let trainIdx: ArrayLike<number> | null = null;
  let calib: { X: FeatureMatrix; y: Uint8Array; source: string; dir: string } | null = null;
  if (typeof opts.calibrateOn === 'number') {
    const seed = opts.seed ?? 0;
    const split = stratifiedSplit(store.labels, opts.calibrateOn, seed);
    trainIdx = split.train;
    calib = {
      X: takeRows(features, split.held),
      y: Uint8Array.from(split.held, (i) => store.labels[i]),
      source: `held-out ${opts.calibrateOn} of the training store (seed ${seed})`,
      dir: store.dir,
    };
  } else if (typeof opts.calibrateOn === 'string') {
    const other = readFeatures(opts.calibrateOn, set);
    assertSameModel(trainedOn, storeOrigin(other.store), other.store.dir, opts.allowModelMismatch);
    calib = { X: other.X, y: other.store.labels, source: path.resolve(opts.calibrateOn), dir: other.store.dir };
  }
  const X = trainIdx ? takeRows(features, trainIdx) : features;
  const y = trainIdx ? Uint8Array.from(trainIdx, (i) => store.labels[i]) : store.labels;
  assertBothClasses(y, path.join(store.dir, 'index.csv'), 'training');
  // Fail on an unusable calibration set before the (possibly long) training.
  if (calib) {
    assertBothClasses(calib.y, path.join(calib.dir, 'index.csv'), 'calibration');
    if (calib.X.d !== X.d) throw new DataError(`features have ${calib.X.d} dimensions, the training store has ${X.d}`, featureSource(calib.dir, set));
  }

  const C = opts.C ?? DEFAULT_C;
  const model = trainLogReg(X.data, X.n, X.d, y, { C, standardize: opts.standardize, classWeight: opts.classWeight, onIteration: opts.onIteration });
  const counts = countClasses(y);
  const head: Head = {
    format: HEAD_FORMAT,
    version: isSingleLayerMean(set) ? 1 : 2,
    ...trainedOn,
    layer: deepestLayer(set),
    features: set,
    pooling: typeof store.meta?.pooling === 'string' ? store.meta.pooling : null,
    weights: Array.from(model.weights),
    bias: model.bias,
    standardize: model.standardize ? { mean: Array.from(model.standardize.mean), std: Array.from(model.standardize.std) } : null,
    temperature: 1,
    platt: null,
    training: {
      store: path.resolve(store.dir),
      n: y.length,
      n_bona: counts.bona,
      n_spoof: counts.spoof,
      dim: X.d,
      prior_spoof: counts.spoof / y.length,
      C,
      class_weight: opts.classWeight ?? null,
      objective: model.objective,
      iterations: model.iterations,
      converged: model.converged,
    },
    calibration: null,
  };
  if (calib) calibrateHead(head, calib.X, calib.y, calib.source, calib.dir, opts.calibration ?? 'temperature');
  return head;
}

/**
 * Fits the temperature (or Platt parameters) of `head` on held-out rows of the store in `dir` (named in errors)
 * and records the calibration quality before and after.
 */
export function calibrateHead(head: Head, X: FeatureMatrix, y: Uint8Array, source: string, dir: string, method: 'temperature' | 'platt'): void {
  assertBothClasses(y, path.join(dir, 'index.csv'), 'calibration');
  const { logits } = scoreHead({ ...head, temperature: 1, platt: null }, X.data, X.n, X.d, featureSource(dir, head.features));
  const before = logits.map(sigmoid);
  if (method === 'platt') head.platt = fitPlatt(logits, y);
  else head.temperature = fitTemperature(logits, y);
  const after = logits.map((z) => calibrate(head, z));
  const counts = countClasses(y);
  head.calibration = {
    method,
    source,
    n: y.length,
    n_bona: counts.bona,
    n_spoof: counts.spoof,
    prior_spoof: counts.spoof / y.length,
    before: quality(before, y),
    after: quality(after, y),
  };
}

/** The smallest normal double: a std below it is denormal or zero. */
const MIN_NORMAL = 2 ** -1022;

const isNumArray = (v: unknown, len?: number): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && (len === undefined || v.length === len);

/** Reads and validates a head file. */
export function readHead(file: string): Head {
  let h: Head;
  try {
    h = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(`cannot read head file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  const bad = (why: string): never => {
    throw new DataError(`invalid head file: ${why}`, file);
  };
  if (h === null || typeof h !== 'object' || h.format !== HEAD_FORMAT) bad(`"format" is not "${HEAD_FORMAT}"`);
  // Only a number is shown: any other value is the file's to make arbitrarily deep or unprintable.
  if (h.version !== 1 && h.version !== 2)
    bad(`unsupported version ${typeof h.version === 'number' ? h.version : `(a ${Array.isArray(h.version) ? 'list' : typeof h.version})`}`);
  if (!isNumArray(h.weights) || h.weights.length === 0) bad('"weights" must be a non-empty array of finite numbers');
  if (typeof h.bias !== 'number' || !Number.isFinite(h.bias)) bad('"bias" must be a finite number');
  if (!Number.isInteger(h.layer) || h.layer < 0) bad('"layer" must be a non-negative integer');
  // Version 1 is one layer's mean by definition (its "features", when written, only repeat it).
  if (h.version === 1) h.features = singleLayer(h.layer);
  const fsWhy = featureSetError(h.features);
  if (fsWhy) bad(`"features": ${fsWhy}`);
  if (deepestLayer(h.features) !== h.layer) bad(`"layer" must be the deepest layer of "features" (${deepestLayer(h.features)})`);
  const per = featureDim(h.features, 1);
  if (h.weights.length % per !== 0) bad(`${h.weights.length} weights do not split into the ${per} equal parts "features" needs`);
  const d = h.weights.length;
  if (h.standardize !== null) {
    const s = h.standardize;
    // A tiny std turns w/std into Infinity, and Infinity − Infinity into a NaN score.
    if (!s || !isNumArray(s.mean, d) || !isNumArray(s.std, d) || s.std.some((v, j) => !(v >= MIN_NORMAL) || !Number.isFinite(h.weights[j] / v))) {
      bad(
        `"standardize" must be null or {mean, std} with ${d} values each, all finite, every std ≥ ${MIN_NORMAL} (not denormal) and weight/std finite`,
      );
    }
  }
  if (h.model !== null && h.model !== undefined && typeof h.model !== 'string') bad('"model" must be a string or null');
  if (h.model_fingerprint != null && typeof h.model_fingerprint !== 'string') bad('"model_fingerprint" must be a string or null');
  h.model ??= null;
  h.model_fingerprint ??= null;
  if (!(typeof h.temperature === 'number' && h.temperature > 0 && Number.isFinite(h.temperature))) bad('"temperature" must be a finite number > 0');
  if (h.platt != null && !isNumArray([h.platt.a, h.platt.b])) bad('"platt" must be null or {a, b}');
  h.platt ??= null;
  // What headPrior reads; only numbers are computed with (see above).
  const t = h.training;
  if (t === null || typeof t !== 'object' || !isNumArray([t.prior_spoof, t.n_bona, t.n_spoof]))
    bad('"training" must hold prior_spoof, n_bona and n_spoof');
  const w = t.class_weight;
  if (!(w == null || w === 'balanced' || (typeof w === 'object' && isNumArray([w[0], w[1]]))))
    bad('"training.class_weight" must be null, "balanced" or {0, 1}');
  const c = h.calibration;
  if (c != null && (typeof c !== 'object' || !isNumArray([c.prior_spoof ?? c.n_spoof / c.n, c.n, c.n_spoof]))) {
    bad('"calibration" must be null or hold n, n_spoof and prior_spoof');
  }
  h.calibration ??= null;
  // Heads written before calibration.prior_spoof: their calibration counts give it.
  if (h.calibration) h.calibration.prior_spoof ??= h.calibration.n_spoof / h.calibration.n;
  const prior = headPrior(h);
  if (!(prior > 0 && prior < 1)) bad(`the head's spoof prior (calibration.prior_spoof, or from "training") must be in (0, 1), got ${prior}`);
  return h;
}

/**
 * The spoof prior the head's P(spoof) is a posterior under: the spoof fraction of the calibration rows when the head
 * is calibrated. An uncalibrated head's P(spoof) is the logistic regression's own, fitted under the training prior
 * (training.prior_spoof), as class weights re-weight it (balanced weights make it ½).
 */
export function headPrior(head: Pick<Head, 'training' | 'calibration'>): number {
  if (head.calibration) return head.calibration.prior_spoof;
  const { n_bona, n_spoof, class_weight: w } = head.training;
  if (w == null) return head.training.prior_spoof;
  const [w0, w1] = w === 'balanced' ? [1 / n_bona, 1 / n_spoof] : [w[0], w[1]];
  return (w1 * n_spoof) / (w1 * n_spoof + w0 * n_bona);
}

/** Writes a head file atomically. */
export function writeHead(file: string, head: Head): void {
  writeFileAtomic(file, JSON.stringify(head, null, 1) + '\n');
}

export interface HeadScores {
  ids: string[];
  /** [N], 1 = spoof */
  labels: Uint8Array;
  logits: Float64Array;
  /** σ(logit): the head before calibration */
  uncalibrated: Float64Array;
  /** calibrated P(spoof) */
  probs: Float64Array;
}

/**
 * Scores every row of a feature store with a head (on the head's feature set). A store of another model than the
 * head's is refused unless `allowModelMismatch`; a store whose dimension differs, or that lacks a layer or the stds
 * the set needs, is always refused.
 */
export function scoreStore(head: Head, storeDir: string, opts: { allowModelMismatch?: boolean } = {}): HeadScores {
  const { store: s, X } = readFeatures(storeDir, head.features);
  assertSameModel(head, storeOrigin(s), s.dir, opts.allowModelMismatch);
  const { logits, probs } = scoreHead(head, X.data, X.n, X.d, featureSource(s.dir, head.features));
  return { ids: s.index.map((r) => r.id), labels: s.labels, logits, uncalibrated: logits.map(sigmoid), probs };
}
