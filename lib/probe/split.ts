/** Reproducible stratified hold-out splits (for calibrating on part of the training store). */
import { UsageError } from '../errors';
import { mulberry32 } from '../random';

/** Kept under its old name for callers of the split module. */
export const seededRandom = mulberry32;

/**
 * Holds out round(fraction·n_c) rows of each class c (at least one, and at least one left to train on), chosen by
 * a Fisher–Yates shuffle with the given seed. Both index lists are ascending.
 */
export function stratifiedSplit(labels: ArrayLike<number>, fraction: number, seed = 0): { train: Uint32Array; held: Uint32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new UsageError(`a held-out fraction must lie strictly between 0 and 1, got ${fraction}`);
  const rand = seededRandom(seed);
  const held: number[] = [];
  for (const c of [0, 1]) {
    const rows: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) rows.push(i);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const k = Math.min(Math.max(Math.round(fraction * rows.length), 1), rows.length - 1);
    held.push(...rows.slice(0, k));
  }
  const isHeld = new Uint8Array(labels.length);
  for (const i of held) isHeld[i] = 1;
  const train: number[] = [];
  for (let i = 0; i < labels.length; i++) if (!isHeld[i]) train.push(i);
  return { train: Uint32Array.from(train), held: Uint32Array.from(held).sort() };
}
