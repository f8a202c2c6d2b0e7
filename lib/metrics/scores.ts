/** Score files: CSV with `id,label,score`, label `bona-fide` or `spoof`, score = P(spoof). */
import { readCsv, writeCsv } from '../data/csv';
import { assertBothClasses, labelName, parseLabels } from '../data/labels';
import { DataError, WavprobeError } from '../errors';
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

export function writeScoresCsv(file: string, set: ScoreSet): void {
  writeCsv(
    file,
    ['id', 'label', 'score'],
    set.ids.map((id, i) => ({ id, label: labelName(set.labels[i]), score: set.scores[i] })),
  );
}

/** Reads a score file and computes the metric set; errors name the file. */
export function evaluateScoresFile(file: string): Metrics {
  const set = readScoresCsv(file);
  assertBothClasses(set.labels, file, 'evaluation');
  try {
    return computeMetrics(set.scores, set.labels);
  } catch (e) {
    if (e instanceof WavprobeError && !e.file) throw new DataError(e.reason, file);
    throw e;
  }
}
