/**
 * The detector: audio file → calibrated P(spoof), for use from any Node program (`createDetector`) and by
 * `wavprobe detect`.
 *
 * Long audio is cut into windows of `windowS` seconds (default 30; the last window is aligned to the end of the
 * file). Each window's hidden states of the layers the head's feature set needs are pooled (mean, and for mean+std
 * the std), and the window statistics are combined weighted by their frame counts: the same statistics as one
 * whole-file pass (the std through the pooled variance Σ n_w (s_w² + (m_w − m)²) / N), except that attention does
 * not reach across window boundaries (and the end-aligned last window's overlap counts twice). The feature set's
 * vector is then built from them by the function that builds it from a store (probe/feature-set.ts), and the head
 * scores it, so long and short files are scored the way the head was trained.
 *
 * The calibrated P(spoof) is a posterior under the spoof prior of the head's calibration data (headPrior). Where the
 * deployment prior differs, `targetPriorSpoof` moves it there by Bayes' rule and decides by the Bayes threshold of
 * the costs (ASVspoof 5's by default); the LLR (`llr`) is the prior-free evidence either way.
 *
 * Frame-level evidence (`timeline`). The head is linear, logit = w·((x̄ − m)/s) + b with x̄ the mean of N frames
 * x_t, so logit = (1/N)·Σ_t c_t exactly, with c_t = w·((x_t − m)/s) + b: frame t's hidden state of the head's
 * layer, standardised as the head standardises pooled features, scored by the head. c_t is on the scale of the
 * reported `logit`, the head's logit before calibration (the c_t/T would average to logit/T instead).
 * Calibration is affine in the logit (logit/T, or a·logit + b for Platt), so cal(c_t) averages to the calibrated
 * logit σ⁻¹(P(spoof)) at the head's prior just as well; `threshold_logit` is the decision threshold moved to
 * the c_t scale (for Platt with a < 0 spoof lies below it: `spoof_above` false).
 * In windows, the timeline lists every window's frames and every listed frame counts once: the detector's
 * frame-weighted mean of window means is the plain mean over all of them, so the end-aligned last window's
 * frames count in full, and the stretch it shares with its neighbour appears twice (two values, each in its own
 * window's context). All frames span the same time (the receptive field, 25 ms every 20 ms for the SSL models;
 * LFCC's 20 ms window every 10 ms), so the duration-weighted mean of the timeline is its plain mean = `logit`.
 * With a timeline the mean is taken in float64 from the frames read back, so `logit` can differ from a run
 * without one by the float32 rounding of the device's mean (about 1e-7 relative).
 * The timeline needs a head on one layer's mean (a std is not a mean of per-frame terms).
 * What c_t is not: a per-frame detector. The head was fitted to means over whole utterances; one frame's c_t
 * has no calibration, its hidden state already mixes the whole window through attention, and a high c_t says
 * the frame pulls the mean towards spoof, not that the frame is spoofed.
 */
import { loadAudio } from './audio';
import { windows } from './audio/windows';
import { DataError, UsageError, WavprobeError } from './errors';
import type { PooledFrontEnd } from './features/frontend';
import { LFCC_ID, lfccFrontEnd, modelId, sslFrontEnd } from './features/frontends';
import { firstNonFinite } from './features/pool';
import { ASVSPOOF5_C_FA, ASVSPOOF5_C_MISS, bayesThresholdLlr, checkPrior, llrFromProb, logOdds, retarget } from './metrics/asvspoof5';
import { confidence } from './metrics/reliability';
import { SpeechModel, loadModel } from './models';
import { buildFeatures, deepestLayer, featureDim, featureSetName, isSingleLayerMean, oneRow } from './probe/feature-set';
import { Head, assertSameModel, headPrior, readHead, scoreHead } from './probe/head';

export interface DetectorOptions {
  /** Model directory (converted store or HF checkpoint); ignored when the head was trained on LFCC features. */
  model: string;
  /**
   * The model of `model`, already loaded: borrowed, so the detector neither loads a copy nor disposes it (several
   * heads on one model, as the page's per-layer view scores them, then share one set of weights).
   */
  loaded?: SpeechModel;
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
  /** Add the frame-level evidence (`timeline`, `threshold_logit`, `spoof_above`) to each detection. */
  timeline?: boolean;
}

/** One frame's contribution c_t to the logit (see the top of this file); times in the whole file. */
export interface TimelineFrame {
  /** The window the frame belongs to (0-based; windows overlap only at the end). */
  window: number;
  start_s: number;
  end_s: number;
  logit: number;
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
  /** With `timeline`: every window's frames; their mean is `logit`. */
  timeline?: TimelineFrame[];
  /** With `timeline`: the decision threshold on the logit scale; null when no logit reaches it (threshold 0 or 1). */
  threshold_logit?: number | null;
  /** With `timeline`: whether spoof is decided at or above threshold_logit (false only for a Platt slope < 0). */
  spoof_above?: boolean;
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
  if (opts.timeline && !isSingleLayerMean(head.features)) {
    throw new UsageError(`the timeline needs a head on one layer's mean; this head's features are ${featureSetName(head.features)}`);
  }
  const fe = openFor(head, headFile, opts);

  async function detectSamples(samples: Float32Array, name = '<samples>'): Promise<Detection> {
    const parts: WindowStats[] = [];
    const timeline: TimelineFrame[] = [];
    for (const w of windows(samples, { windowS, sampleRate: 16000 })) {
      const stats = opts.timeline ? await frameEvidence(w.samples, w.start, parts.length, timeline, name) : await fe.pool(w.samples);
      const bad = firstNonFinite(stats.vectors, fe.layers) ?? (stats.std ? firstNonFinite(stats.std, fe.layers) : null);
      if (bad) throw new DataError(bad, name);
      parts.push(stats);
    }
    const { means, stds } = combineWindows(parts, fe.layers);
    const x = buildFeatures(head.features, oneRow(means), stds && oneRow(stds), name);
    const n = parts.length;
    const { logits, probs } = scoreHead(head, x.data, 1, x.d, name);
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
      ...(opts.timeline && {
        timeline,
        ...thresholdLogit(head, target === undefined ? logOdds(threshold) : logOdds(prior) - bayesThresholdLlr({ ...costs, pSpoof: target })),
      }),
    };
  }

  /** The window's frames scored one by one onto `timeline`, and their mean in float64. */
  async function frameEvidence(w: Float32Array, start: number, index: number, timeline: TimelineFrame[], name: string): Promise<WindowStats> {
    const f = await fe.frames(w, head.layer);
    const mean = new Float64Array(f.dims);
    for (let t = 0; t < f.frames; t++) for (let j = 0; j < f.dims; j++) mean[j] += f.data[t * f.dims + j];
    for (let j = 0; j < f.dims; j++) mean[j] /= f.frames;
    if (!firstNonFinite([mean], fe.layers)) {
      // (a non-finite mean is the caller's to report, in the same words as without a timeline)
      const { logits } = scoreHead(head, f.data, f.frames, f.dims, name); // the head on each frame: c_t
      logits.forEach((c, t) => {
        const s0 = start + t * f.hop;
        timeline.push({ window: index, start_s: s0 / 16000, end_s: (s0 + f.span) / 16000, logit: c });
      });
    }
    return { vectors: [mean], frames: f.frames };
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

/** One window's pooled statistics, per front-end layer: means, and stds when pooled so; over `frames` frames. */
type WindowStats = { vectors: ArrayLike<number>[]; std?: ArrayLike<number>[]; frames: number };

/**
 * The windows' statistics combined into the whole file's, per layer, in float64: the frame-weighted mean of the
 * means, and the pooled std sqrt(Σ n_w (s_w² + (m_w − m)²) / N) (exact for population stds).
 */
function combineWindows(parts: WindowStats[], layers: number[]): { means: Map<number, Float64Array>; stds: Map<number, Float64Array> | null } {
  const N = parts.reduce((a, p) => a + p.frames, 0);
  const means = new Map<number, Float64Array>();
  const stds = parts[0].std ? new Map<number, Float64Array>() : null;
  layers.forEach((k, li) => {
    const m = new Float64Array(parts[0].vectors[li].length);
    for (const p of parts) for (let j = 0; j < m.length; j++) m[j] += p.vectors[li][j] * p.frames;
    for (let j = 0; j < m.length; j++) m[j] /= N;
    means.set(k, m);
    if (!stds) return;
    const v = new Float64Array(m.length);
    for (const p of parts) for (let j = 0; j < m.length; j++) v[j] += p.frames * (p.std![li][j] ** 2 + (p.vectors[li][j] - m[j]) ** 2);
    stds.set(
      k,
      v.map((x) => Math.sqrt(x / N)),
    );
  });
  return { means, stds };
}

/**
 * The decision threshold on the head's logit, from the threshold on the calibrated logit (σ⁻¹ of P(spoof) at the
 * head's prior): the inverse of z/T, or of a·z + b for Platt.
 */
function thresholdLogit(head: Head, calibrated: number): { threshold_logit: number | null; spoof_above: boolean } {
  const z = head.platt ? (calibrated - head.platt.b) / head.platt.a : calibrated * head.temperature;
  return { threshold_logit: Number.isFinite(z) ? z : null, spoof_above: !head.platt || head.platt.a > 0 };
}

/**
 * The head's front-end, once the head is known to fit it: the same model (by fingerprint, unless allowed
 * otherwise), the layers its feature set needs, and the head's dimension (never overridable: a head of the wrong
 * size would score some other vector). One forward per window, up to the deepest layer the set needs.
 */
function openFor(head: Head, headFile: string, opts: DetectorOptions): PooledFrontEnd {
  const set = head.features;
  const layers = [...set.layers].sort((a, b) => a - b);
  const pooling = set.pool === 'mean+std' ? 'mean,std' : 'mean';
  const single = isSingleLayerMean(set);
  const fits = (what: string, numLayers: number, dim: number) => {
    const deepest = deepestLayer(set);
    if (deepest > numLayers) {
      const need = single ? `the head is for layer ${deepest}` : `the head's features ${featureSetName(set)} need layer ${deepest}`;
      throw new DataError(`${need}, ${what} has layers 0..${numLayers}`, headFile);
    }
    if (head.weights.length !== featureDim(set, dim)) {
      const gives = single ? `${dim}-dimensional features` : `${featureDim(set, dim)} values for features ${featureSetName(set)}`;
      throw new DataError(`the head has ${head.weights.length} weights, ${what} gives ${gives}`, headFile);
    }
  };
  if (head.model === LFCC_ID) {
    fits('the LFCC front-end', 0, 60);
    return lfccFrontEnd(pooling);
  }
  const model = opts.loaded ?? loadModel(opts.model);
  const release = () => {
    if (!opts.loaded) model.dispose();
  };
  try {
    fits(opts.model, model.config.numHiddenLayers, model.config.hiddenSize);
    assertSameModel(head, { model: modelId(opts.model), fingerprint: model.fingerprint }, headFile, opts.allowModelMismatch);
    return { ...sslFrontEnd(model, head.model ?? modelId(opts.model), layers, pooling), dispose: release };
  } catch (e) {
    release();
    throw e;
  }
}
