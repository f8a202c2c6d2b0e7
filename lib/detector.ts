/**
 * The detector: audio file → calibrated P(spoof), for use from any Node program (`createDetector`) and by
 * `wavprobe detect`.
 *
 * Long audio is cut into windows of `windowS` seconds (default 30; the last window is aligned to the end of the
 * file). Each window's hidden state of the head's layer is mean-pooled, and the window means are averaged
 * weighted by their frame counts: the same statistic as one whole-file mean, except that attention does not reach
 * across window boundaries (and the end-aligned last window's overlap counts twice). The head then scores that
 * utterance vector, so long and short files are scored the way the head was trained.
 *
 * The calibrated P(spoof) is a posterior under the spoof prior of the head's calibration data (headPrior). Where the
 * deployment prior differs, `targetPriorSpoof` moves it there by Bayes' rule and decides by the Bayes threshold of
 * the costs (ASVspoof 5's by default); the LLR (`llr`) is the prior-free evidence either way.
 */
import { loadAudio } from './audio';
import { windows } from './audio/windows';
import { DataError, UsageError, WavprobeError } from './errors';
import type { PooledFrontEnd } from './features/frontend';
import { LFCC_ID, lfccFrontEnd, modelId, sslFrontEnd } from './features/frontends';
import { firstNonFinite } from './features/pool';
import { ASVSPOOF5_C_FA, ASVSPOOF5_C_MISS, checkPrior, llrFromProb, retarget } from './metrics/asvspoof5';
import { confidence } from './metrics/reliability';
import { loadModel } from './models';
import { Head, assertSameModel, headPrior, readHead, scoreHead } from './probe/head';

export interface DetectorOptions {
  /** Model directory (converted store or HF checkpoint); ignored when the head was trained on LFCC features. */
  model: string;
  /** Head file path, or a head already read. */
  head: string | Head;
  /** Window length for long audio, in seconds (default 30). */
  windowS?: number;
  /** Decision threshold on P(spoof) (default 0.5); not with `targetPriorSpoof`, which decides by its costs. */
  threshold?: number;
  /** Deployment spoof prior: P(spoof) is re-targeted from the head's prior to it, and decided by the Bayes threshold. */
  targetPriorSpoof?: number;
  /** Cost of rejecting bona fide, with `targetPriorSpoof` (default ASVspoof 5's, 1). */
  costMiss?: number;
  /** Cost of accepting spoof, with `targetPriorSpoof` (default ASVspoof 5's, 10). */
  costFa?: number;
  /** Score with a model other than the head's (same dimension still required). */
  allowModelMismatch?: boolean;
}

export interface Detection {
  file: string;
  ok: true;
  /** Calibrated P(spoof) under `prior_spoof`. */
  p_spoof: number;
  /** The spoof prior of p_spoof: the head's, or the target prior when one is given. */
  prior_spoof: number;
  /** Log-likelihood ratio of bona fide vs spoof (ASVspoof 5's score): the evidence without the prior. */
  llr: number;
  decision: 'spoof' | 'bona-fide';
  /** r = 1 − H(p)/ln 2: 0 for p = 0.5, 1 for a certain decision. */
  reliability: number;
  /** The head's logit before calibration. */
  logit: number;
  duration_s: number;
  windows: number;
}

export interface DetectionFailure {
  file: string;
  ok: false;
  error: string;
}

export interface Detector {
  readonly head: Head;
  /** Scores one file; a file that cannot be read or scored gives a DetectionFailure (other errors throw). */
  detectFile(file: string): Promise<Detection | DetectionFailure>;
  /** Scores 16 kHz mono samples. */
  detectSamples(samples: Float32Array, name?: string): Promise<Detection>;
  dispose(): void;
}

export function createDetector(opts: DetectorOptions): Detector {
  const head = typeof opts.head === 'string' ? readHead(opts.head) : opts.head;
  const windowS = opts.windowS ?? 30;
  const threshold = opts.threshold ?? 0.5;
  if (!(windowS > 0 && Number.isFinite(windowS))) throw new UsageError(`window length must be a finite number of seconds > 0, got ${windowS}`);
  if (!(threshold >= 0 && threshold <= 1)) throw new UsageError(`threshold must be a probability in [0, 1], got ${threshold}`);
  const target = opts.targetPriorSpoof;
  const costs = { cMiss: opts.costMiss ?? ASVSPOOF5_C_MISS, cFa: opts.costFa ?? ASVSPOOF5_C_FA };
  if (target === undefined) {
    if (opts.costMiss !== undefined || opts.costFa !== undefined) throw new UsageError('costs decide at a target spoof prior: give one too');
  } else {
    checkPrior(target, 'the target spoof prior');
    if (opts.threshold !== undefined) throw new UsageError('give a threshold or a target spoof prior (which decides by its costs), not both');
    for (const c of [costs.cMiss, costs.cFa]) if (!(c > 0 && Number.isFinite(c))) throw new UsageError(`costs must be finite and > 0, got ${c}`);
  }
  const prior = headPrior(head);
  const headFile = typeof opts.head === 'string' ? opts.head : '<head>';
  const fe = openFor(head, headFile, opts);

  async function detectSamples(samples: Float32Array, name = '<samples>'): Promise<Detection> {
    const sum = new Float64Array(head.weights.length); // frame-weighted sum of window means
    let frames = 0;
    let n = 0;
    for (const w of windows(samples, { windowS, sampleRate: 16000 })) {
      const pooled = await fe.pool(w.samples);
      const bad = firstNonFinite(pooled.vectors, fe.layers);
      if (bad) throw new DataError(bad, name);
      const v = pooled.vectors[0];
      for (let j = 0; j < v.length; j++) sum[j] += v[j] * pooled.frames;
      frames += pooled.frames;
      n++;
    }
    const x = sum.map((s) => s / frames);
    const { logits, probs } = scoreHead(head, x, 1, x.length, name);
    const shifted = target === undefined ? null : retarget(probs[0], prior, target, costs);
    const p = shifted ? shifted.p_spoof : probs[0];
    return {
      file: name,
      ok: true,
      p_spoof: p,
      prior_spoof: target ?? prior,
      llr: llrFromProb(probs[0], prior),
      decision: shifted ? shifted.decision : p >= threshold ? 'spoof' : 'bona-fide',
      reliability: confidence(p),
      logit: logits[0],
      duration_s: samples.length / 16000,
      windows: n,
    };
  }

  return {
    head,
    detectSamples,
    async detectFile(file: string) {
      try {
        return await detectSamples((await loadAudio(file, { minSamples: fe.minSamples })).samples, file);
      } catch (e) {
        if (e instanceof WavprobeError) return { file, ok: false, error: e.reason };
        throw e;
      }
    },
    dispose: () => fe.dispose(),
  };
}

/**
 * The head's front-end, once the head is known to fit it: the same model (by fingerprint, unless allowed
 * otherwise), a layer the model has, and the head's dimension (never overridable: a head of the wrong size
 * would score some other vector).
 */
function openFor(head: Head, headFile: string, opts: DetectorOptions): PooledFrontEnd {
  if (head.model === LFCC_ID) return lfccFrontEnd();
  const model = loadModel(opts.model);
  try {
    const { hiddenSize, numHiddenLayers } = model.config;
    if (head.layer > numHiddenLayers)
      throw new DataError(`the head is for layer ${head.layer}, ${opts.model} has layers 0..${numHiddenLayers}`, headFile);
    if (head.weights.length !== hiddenSize) {
      throw new DataError(`the head has ${head.weights.length} weights, ${opts.model} gives ${hiddenSize}-dimensional features`, headFile);
    }
    assertSameModel(head, { model: modelId(opts.model), fingerprint: model.fingerprint }, headFile, opts.allowModelMismatch);
    return sslFrontEnd(model, head.model ?? modelId(opts.model), [head.layer]);
  } catch (e) {
    model.dispose();
    throw e;
  }
}
