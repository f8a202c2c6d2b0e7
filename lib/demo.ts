/**
 * The demo, wavprobe's main job in miniature: the bundled digits-spoof set (real FSDD spoken digits vs
 * espeak-ng / flite TTS; train/dev/eval split by speaker and engine, eval's engine unseen) → every layer of a
 * model → one head per layer trained on train, temperature-scaled on dev, evaluated on eval → a report beside
 * the LFCC baseline. Every step is resumable: rerunning the same command continues where it stopped.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BackendName } from './backend';
import { readDataset } from './data';
import { UsageError } from './errors';
import { ExtractProgress, extractFeatures } from './features/extract';
import { writeScoresCsv } from './metrics/scores';
import { headPrior, scoreStore } from './probe/head';
import { LayerResult, probeLayers } from './probe/layerwise';
import { detCurve, reliabilityDiagram, selectivePredictionCurve, writePlot } from './report/plots';
import { writeProbeReport } from './report/probe-report';
import { cacheDir } from './weights/cache';
import { convert } from './weights/convert';
import { looksLikeHubId } from './weights/hub';
import { packageRoot } from './version';

export const DEMO_DATA = path.join(packageRoot(), 'data', 'digits-spoof');
export const DEMO_MODEL = path.join(packageRoot(), 'weights', 'demo');
const SPLITS = ['train', 'dev', 'eval'] as const;

export interface DemoOptions {
  out: string;
  /** Model directory or hub id (default: the bundled random-weight model). */
  model?: string;
  /** Dataset folder in the digits-spoof layout (default: the bundled copy). */
  data?: string;
  /** Use only the first N files of each split (for quick checks). */
  limit?: number;
  /** Extraction worker threads (default 1) and their backend. */
  workers?: number;
  backend?: BackendName;
  onProgress?: (stage: string, p: ExtractProgress) => void;
  onStage?: (stage: string) => void;
}

export interface DemoSummary {
  report: string;
  best: { layer: number; eer: number; ece: number };
  lfcc: { eer: number; ece: number };
}

/** A hub id is downloaded and converted once into the cache; a directory is used as it is. */
async function resolveModel(model: string): Promise<string> {
  if (fs.existsSync(model)) return model;
  if (!looksLikeHubId(model)) throw new UsageError('no such model directory, and not a hub id (org/name[@revision])', model);
  const dir = path.join(cacheDir(), 'converted', model.replace(/[/@]/g, '--'));
  if (!fs.existsSync(dir)) await convert(model, dir);
  return dir;
}

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const data = opts.data ?? DEMO_DATA;
  const modelDir = await resolveModel(opts.model ?? DEMO_MODEL);
  const randomWeights = !opts.model;
  const features = path.join(opts.out, 'features');
  const stores = { ssl: {} as Record<string, string>, lfcc: {} as Record<string, string> };
  const frontEnds = { ssl: { model: modelDir, layers: 'all' }, lfcc: { model: 'lfcc' } };
  for (const split of SPLITS) {
    const items = readDataset(`in-the-wild:${path.join(data, split)}`).slice(0, opts.limit);
    for (const kind of ['ssl', 'lfcc'] as const) {
      const stage = `${kind === 'ssl' ? 'model' : 'LFCC'} features, ${split}`;
      opts.onStage?.(stage);
      stores[kind][split] = path.join(features, kind, split); // both eval stores are named "eval" in reports
      await extractFeatures(items, frontEnds[kind], stores[kind][split], {
        workers: opts.workers,
        backend: opts.backend,
        onProgress: (p) => opts.onProgress?.(stage, p),
      });
    }
  }

  opts.onStage?.('probing every layer');
  const probe = (kind: 'ssl' | 'lfcc') => probeLayers(stores[kind].train, [stores[kind].eval], { calibrateOn: stores[kind].dev });
  const layers = probe('ssl');
  const [lfccResult] = probe('lfcc');
  const evalName = Object.keys(layers[0].eval)[0];
  const eer = (r: LayerResult) => r.eval[evalName].calibrated.eer_asvspoof;
  const best = layers.reduce((a, b) => (eer(b) < eer(a) ? b : a));

  // Scores of every head on eval, so anyone can recompute the metrics (`wavprobe eval --scores`).
  const scoresDir = path.join(opts.out, 'scores');
  fs.mkdirSync(scoresDir, { recursive: true });
  const evalScores = new Map(layers.map((r) => [r.layer, scoreStore(r.head, stores.ssl.eval)]));
  for (const { layer, head } of layers) {
    const s = evalScores.get(layer)!;
    const file = path.join(scoresDir, `eval_layer_${String(layer).padStart(2, '0')}.csv`);
    writeScoresCsv(file, { ids: s.ids, labels: s.labels, scores: s.probs }, headPrior(head));
  }
  const lfccScores = scoreStore(lfccResult.head, stores.lfcc.eval);
  writeScoresCsv(
    path.join(scoresDir, 'eval_lfcc.csv'),
    { ids: lfccScores.ids, labels: lfccScores.labels, scores: lfccScores.probs },
    headPrior(lfccResult.head),
  );

  opts.onStage?.('writing the report');
  const bestScores = evalScores.get(best.layer)!;
  const sets = {
    raw: { name: `layer ${best.layer}, raw`, probs: bestScores.uncalibrated, labels: bestScores.labels },
    cal: { name: `layer ${best.layer}, temperature-scaled`, probs: bestScores.probs, labels: bestScores.labels },
    lfcc: { name: 'LFCC, temperature-scaled', probs: lfccScores.probs, labels: lfccScores.labels },
  };
  await writePlot(opts.out, 'reliability', reliabilityDiagram([sets.raw, sets.cal]));
  await writePlot(opts.out, 'det', detCurve([sets.cal, sets.lfcc]));
  await writePlot(opts.out, 'selective', selectivePredictionCurve([sets.raw, sets.cal, sets.lfcc]));
  const modelNote = randomWeights
    ? '**The model is the bundled demo model: a small wav2vec 2.0-architecture network with seeded *random* weights, not a pretrained one.** ' +
      'Its numbers show that the pipeline runs end to end; they say nothing about what a pretrained SSL model achieves. ' +
      'Run `npx wavprobe demo --model <converted model dir or hub id>` with a real checkpoint for meaningful results.'
    : `Model: \`${opts.model}\`.`;
  const report = await writeProbeReport(opts.out, {
    title: 'wavprobe demo: digits-spoof, layer-wise detection',
    intro: [
      modelNote,
      `Data: ${data} — train (2 speakers vs espeak-ng), dev (1 speaker vs espeak-ng, used for temperature scaling), ` +
        `eval (an unseen speaker vs flite, a TTS engine never seen in training)${opts.limit ? `; only the first ${opts.limit} files of each split` : ''}.`,
      'Method (Pascu et al., Interspeech 2024): each layer mean-pooled over time, L2 logistic regression (C = 1e6, no standardisation), ' +
        'P(spoof) temperature-scaled on dev. EER is the ASVspoof threshold sweep; ECE uses 15 bins. The LFCC row is the ASVspoof 2019 LFCC front-end with the same classifier.',
      `Best layer on eval: **${best.layer}** (EER ${(100 * eer(best)).toFixed(2)}%). Scores of every head: \`scores/\`; plots below.`,
      '![reliability before and after temperature scaling](reliability.png)\n\n![DET](det.png)\n\n![selective prediction](selective.png)',
    ],
    results: layers,
    baselines: [{ label: 'LFCC', result: lfccResult }],
    extra: {
      model: opts.model ?? 'bundled demo model (random weights)',
      random_weights: randomWeights,
      data,
      limit: opts.limit ?? null,
      best_layer: best.layer,
    },
  });
  return {
    report: report.markdown,
    best: { layer: best.layer, eer: eer(best), ece: best.eval[evalName].calibrated.ece_15 },
    lfcc: { eer: lfccResult.eval[evalName].calibrated.eer_asvspoof, ece: lfccResult.eval[evalName].calibrated.ece_15 },
  };
}
