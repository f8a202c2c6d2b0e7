/**
 * Score files: CSV with `id,label,score`, label `bona-fide` or `spoof`, score = P(spoof). Written files add `llr`
 * (bona fide vs spoof, ASVspoof 5's score), empty when the prior of the scores is unknown; reading ignores it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readCsv, writeCsv } from '../data/csv';
import { assertBothClasses, labelName, parseLabels } from '../data/labels';
import { writeFileAtomic } from '../atomic';
import { DataError, WavprobeError } from '../errors';
import { asvspoof5Metrics, Asvspoof5Metrics, llrFromProb } from './asvspoof5';
import { computeMetrics, Metrics } from './summary';

export interface ScoreSet {
  ids: string[];
  /** [N], 1 = spoof */
  labels: Uint8Array;
  /** [N] P(spoof) */
  scores: Float64Array;
}

export function readScoresCsv(file: string): ScoreSet {
  const { rows } = readCsv(file, ['id', 'label', 'score']);
  if (rows.length === 0) throw new DataError('no scores (only a header)', file);
  const labels = parseLabels(
    rows.map((r) => r.label),
    file,
  );
  const scores = Float64Array.from(rows, (r, i) => {
    const v = r.score.trim() === '' ? NaN : Number(r.score);
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new DataError(`row ${i + 2}: score "${r.score}" is not a probability in [0, 1]`, file);
    return v;
  });
  return { ids: rows.map((r) => r.id), labels, scores };
}

/** `priorSpoof`: the prior the scores are posteriors under, for the llr column (null leaves it empty). */
export function writeScoresCsv(file: string, set: ScoreSet, priorSpoof: number | null = null): void {
  writeCsv(
    file,
    ['id', 'label', 'score', 'llr'],
    set.ids.map((id, i) => ({
      id,
      label: labelName(set.labels[i]),
      score: set.scores[i],
      llr: priorSpoof === null ? null : llrFromProb(set.scores[i], priorSpoof),
    })),
  );
}

export const ASVSPOOF5_SCORE_FILE = 'cm-scores.tsv';
export const ASVSPOOF5_KEY_FILE = 'cm-keys.tsv';

/**
 * The score and key files the ASVspoof 5 evaluation package reads: tab-separated with a header line,
 * `filename\tcm-score` (the LLR) and `filename\tcm-label` (`bonafide` or `spoof`). Returns their paths.
 */
export function writeAsvspoof5Files(dir: string, set: ScoreSet, priorSpoof: number): { scores: string; keys: string } {
  const bad = set.ids.find((id) => /[\t\r\n]/.test(id));
  if (bad !== undefined) throw new DataError(`id ${JSON.stringify(bad)} has a tab or line break, which a tab-separated file cannot hold`);
  fs.mkdirSync(dir, { recursive: true });
  const tsv = (header: string, column: (i: number) => string) => [header, ...set.ids.map((id, i) => `${id}\t${column(i)}`)].join('\n') + '\n';
  const out = { scores: path.join(dir, ASVSPOOF5_SCORE_FILE), keys: path.join(dir, ASVSPOOF5_KEY_FILE) };
  writeFileAtomic(
    out.scores,
    tsv('filename\tcm-score', (i) => String(llrFromProb(set.scores[i], priorSpoof))),
  );
  writeFileAtomic(
    out.keys,
    tsv('filename\tcm-label', (i) => (set.labels[i] ? 'spoof' : 'bonafide')),
  );
  return out;
}

/**
 * Reads a score file and computes the metric set, with the ASVspoof 5 metrics under `priorSpoof` (null: the prior
 * is unknown, see asvspoof5Metrics); errors name the file.
 */
export function evaluateScoresFile(file: string, priorSpoof: number | null = null): Metrics & Asvspoof5Metrics {
  const set = readScoresCsv(file);
  assertBothClasses(set.labels, file, 'evaluation');
  try {
    return { ...computeMetrics(set.scores, set.labels), ...asvspoof5Metrics(set.scores, set.labels, priorSpoof) };
  } catch (e) {
    if (e instanceof WavprobeError && !e.file) throw new DataError(e.reason, file);
    throw e;
  }
}
