/** The two classes everywhere in wavprobe: label strings in files, 0/1 in arrays (1 = spoof, the positive class). */
import { DataError } from '../errors';

export const BONA_FIDE = 'bona-fide';
export const SPOOF = 'spoof';

export const labelName = (y: number): string => (y === 1 ? SPOOF : BONA_FIDE);

/** Label strings → Uint8Array (1 = spoof); anything else is a DataError naming the row (1-based, after the header). */
export function parseLabels(values: string[], file: string): Uint8Array {
  const y = new Uint8Array(values.length);
  values.forEach((v, i) => {
    if (v === SPOOF) y[i] = 1;
    else if (v !== BONA_FIDE) throw new DataError(`row ${i + 2}: label "${v}" is neither "${BONA_FIDE}" nor "${SPOOF}"`, file);
  });
  return y;
}

export function countClasses(y: ArrayLike<number>): { bona: number; spoof: number } {
  let spoof = 0;
  for (let i = 0; i < y.length; i++) spoof += y[i];
  return { bona: y.length - spoof, spoof };
}

/** Both classes must be present for a classifier, an EER or a calibration fit. */
export function assertBothClasses(y: ArrayLike<number>, file: string | undefined, what: string): void {
  const { bona, spoof } = countClasses(y);
  if (bona === 0 || spoof === 0) {
    throw new DataError(`${what} needs both classes, found only ${bona ? BONA_FIDE : SPOOF} (${y.length} rows)`, file);
  }
}
