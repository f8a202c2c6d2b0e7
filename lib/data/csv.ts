/**
 * A small RFC 4180 CSV reader/writer: comma-separated, fields optionally double-quoted (quotes doubled inside),
 * quoted fields may hold commas and newlines. Enough for index.csv, scores.csv and dataset protocol files.
 */
import * as fs from 'fs';
import { writeFileAtomic } from '../atomic';
import { DataError } from '../errors';

export interface CsvTable {
  header: string[];
  /** One record per data row, keyed by header name. */
  rows: Record<string, string>[];
}

/** Splits CSV text into rows of fields. */
export function parseCsvRows(text: string, file?: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // skip a UTF-8 BOM
  const endField = () => {
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0] === '')) rows.push(row); // blank lines are not records
    row = [];
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') endRow();
    else if (c === '\r') {
      if (text[i + 1] !== '\n') endRow();
    } else field += c;
  }
  if (quoted) throw new DataError('unterminated quoted field', file);
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/** Reads a CSV file with a header row of distinct names; every row must have as many fields as the header. */
export function readCsv(file: string, required: string[] = []): CsvTable {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read CSV file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  const [header, ...body] = parseCsvRows(text, file);
  if (!header) throw new DataError('empty CSV file (no header row)', file);
  // A repeated column name would make one of the two columns invisible (rows are keyed by name): refuse it.
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw new DataError(`column ${JSON.stringify(h.length > 80 ? `${h.slice(0, 80)}…` : h)} appears twice in the header`, file);
    seen.add(h);
  }
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length) throw new DataError(`missing column(s) ${missing.join(', ')} (header: ${header.join(',')})`, file);
  const rows = body.map((fields, r) => {
    if (fields.length !== header.length) {
      throw new DataError(`row ${r + 2} has ${fields.length} fields, the header has ${header.length}`, file);
    }
    return Object.fromEntries(header.map((h, j) => [h, fields[j]]));
  });
  return { header, rows };
}

function quoteField(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

export function formatCsv(header: string[], rows: Record<string, string | number | null | undefined>[]): string {
  const lines = [header.map(quoteField).join(',')];
  for (const r of rows) lines.push(header.map((h) => quoteField(r[h] == null ? '' : String(r[h]))).join(','));
  return lines.join('\n') + '\n';
}

/** Writes a CSV file atomically; missing values become empty fields. */
export function writeCsv(file: string, header: string[], rows: Record<string, string | number | null | undefined>[]): void {
  writeFileAtomic(file, formatCsv(header, rows));
}
