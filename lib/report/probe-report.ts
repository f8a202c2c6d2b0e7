/** The layer-wise probe report: report.md, report.json, one head per layer, and the layer-wise chart per eval set. */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic';
import { formatCsv } from '../data/csv';
import { writeHead } from '../probe/head';
import { isSingleLayerMean } from '../probe/feature-set';
import { LayerEval, LayerResult, probeTable } from '../probe/layerwise';
import { layerwiseChart, writePlot } from './plots';

export interface ProbeReportInput {
  title: string;
  /** Markdown paragraphs placed under the title (what was run, caveats). */
  intro: string[];
  results: LayerResult[];
  /** Baselines shown as extra rows, e.g. LFCC. */
  baselines?: { label: string; result: LayerResult }[];
  /** Extra keys for report.json. */
  extra?: Record<string, unknown>;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** heads/layer_07.json for one layer's mean (as before feature sets), heads/features_<set>.json otherwise. */
const headFileName = (x: LayerResult): string =>
  isSingleLayerMean(x.features) ? `layer_${String(x.layer).padStart(2, '0')}.json` : `features_${slug(x.label)}.json`;

/** The paper's main table: per row (layer, feature set or baseline), calibrated EER, ECE and min_dcf per eval set (and their mean). */
interface TableRow {
  label: string;
  /** Per eval set, then the mean over sets when there are several: [eer, ece, min_dcf]. */
  cells: [number, number, number][];
  /** Per eval set (not the mean): the EER's 95 % interval, with a bootstrap. */
  intervals: ([number, number] | undefined)[];
}

function tableRows(r: ProbeReportInput): { sets: string[]; rows: TableRow[]; withIntervals: boolean } {
  const sets = Object.keys(r.results[0]?.eval ?? {});
  const all = [...r.results.map((x) => ({ label: x.label, result: x })), ...(r.baselines ?? [])];
  const rows = all.map(({ label, result }) => {
    const evals: LayerEval[] = sets.map((n) => result.eval[n]);
    const cells = evals.map(({ calibrated: m }): [number, number, number] => [m.eer_asvspoof, m.ece_15, m.min_dcf]);
    const mean = [0, 1, 2].map((k) => cells.reduce((s, c) => s + c[k], 0) / cells.length) as [number, number, number];
    return { label, cells: sets.length > 1 ? [...cells, mean] : cells, intervals: evals.map((e) => e.eer_interval) };
  });
  const withIntervals = rows.some((x) => x.intervals.some((i) => i));
  return { sets: sets.length > 1 ? [...sets, 'mean'] : sets, rows, withIntervals };
}

const pct = (v: number) => (100 * v).toFixed(2);
const texEscape = (s: string) => s.replace(/[\\&%$#_{}~^]/g, (c) => (c === '\\' ? '\\textbackslash{}' : `\\${c}`));

/**
 * table.md, table.csv and table.tex: EER % and ECE % with two decimals and min_dcf with four in the Markdown and
 * LaTeX, the EER followed by its 95 % interval `[lo, hi]` under a bootstrap (none for the mean over sets); the CSV
 * keeps full precision (fractions, as in report.json), the interval in `<set>_eer_lo` and `<set>_eer_hi` columns.
 */
export function writeProbeTables(outDir: string, r: ProbeReportInput): { md: string; csv: string; tex: string } {
  const { sets, rows, withIntervals } = tableRows(r);
  const shown = (x: TableRow) =>
    x.cells.flatMap((c, k) => {
      const ci = x.intervals[k];
      return [ci ? `${pct(c[0])} [${pct(ci[0])}, ${pct(ci[1])}]` : pct(c[0]), pct(c[1]), c[2].toFixed(4)];
    });
  // Intervals for the eval sets, not for their mean.
  const hasCi = (k: number) => withIntervals && k < (rows[0]?.intervals.length ?? 0);
  const mdHead = ['layer', ...sets.flatMap((n, k) => [`${n} EER %${hasCi(k) ? ' [95 % CI]' : ''}`, `${n} ECE %`, `${n} minDCF`])];
  const md = [
    `| ${mdHead.join(' | ')} |`,
    `|${mdHead.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((x) => `| ${x.label} | ${shown(x).join(' | ')} |`),
  ].join('\n');
  const ciCols = (k: number) => (hasCi(k) ? [`${sets[k]}_eer_lo`, `${sets[k]}_eer_hi`] : []);
  const csvHead = ['layer', ...sets.flatMap((n, k) => [`${n}_eer`, ...ciCols(k), `${n}_ece`, `${n}_min_dcf`])];
  const csv = formatCsv(
    csvHead,
    rows.map((x) =>
      Object.fromEntries([
        ['layer', x.label],
        ...x.cells.flatMap((c, k) => [
          [`${sets[k]}_eer`, c[0]],
          ...ciCols(k).map((col, i) => [col, x.intervals[k]?.[i] ?? '']),
          [`${sets[k]}_ece`, c[1]],
          [`${sets[k]}_min_dcf`, c[2]],
        ]),
      ]),
    ),
  );
  const tex = [
    `\\begin{tabular}{l${'rrr'.repeat(sets.length)}}`,
    '\\hline',
    ` & ${sets.map((n) => `\\multicolumn{3}{c}{${texEscape(n)}}`).join(' & ')} \\\\`,
    `layer & ${sets.map((_, k) => `EER (\\%)${hasCi(k) ? ' [95\\,\\% CI]' : ''} & ECE (\\%) & minDCF`).join(' & ')} \\\\`,
    '\\hline',
    ...rows.map((x) => `${texEscape(x.label)} & ${shown(x).join(' & ')} \\\\`),
    '\\hline',
    '\\end{tabular}',
  ].join('\n');
  const files = { md: path.join(outDir, 'table.md'), csv: path.join(outDir, 'table.csv'), tex: path.join(outDir, 'table.tex') };
  writeFileAtomic(files.md, md + '\n');
  writeFileAtomic(files.csv, csv);
  writeFileAtomic(files.tex, tex + '\n');
  return files;
}

export async function writeProbeReport(outDir: string, r: ProbeReportInput): Promise<{ markdown: string; json: string }> {
  fs.mkdirSync(path.join(outDir, 'heads'), { recursive: true });
  for (const x of r.results) writeHead(path.join(outDir, 'heads', headFileName(x)), x.head);
  for (const b of r.baselines ?? []) writeHead(path.join(outDir, 'heads', `${slug(b.label)}.json`), b.result.head);
  const names = Object.keys(r.results[0]?.eval ?? {});
  const md = [`# ${r.title}`, '', ...r.intro.flatMap((p) => [p, '']), probeTable(r.results, r.baselines), ''];
  // The chart runs over layers: the rows of one layer, pooled as the first of them.
  const pool = r.results.find((x) => x.features.layers.length === 1)?.features.pool;
  const single = r.results.filter((x) => x.features.layers.length === 1 && x.features.pool === pool);
  for (const name of single.length ? names : []) {
    const rows = single.map((x) => ({ layer: x.layer, eer: x.eval[name].calibrated.eer_asvspoof, ece: x.eval[name].calibrated.ece_15 }));
    const plot = `layerwise_${slug(name)}`;
    await writePlot(outDir, plot, layerwiseChart(rows, `EER and ECE per layer on ${name} (after calibration${pool === 'mean' ? '' : `, ${pool}`})`));
    md.push(`![layer-wise EER and ECE on ${name}](${plot}.png)`, '');
  }
  const json = {
    title: r.title,
    ...r.extra,
    layers: r.results.map((x) => ({
      layer: x.layer,
      features: x.features,
      eval: x.eval,
      temperature: x.head.temperature,
      training: x.head.training,
      calibration: x.head.calibration,
    })),
    baselines: (r.baselines ?? []).map((b) => ({ label: b.label, eval: b.result.eval, temperature: b.result.head.temperature })),
  };
  const files = { markdown: path.join(outDir, 'report.md'), json: path.join(outDir, 'report.json') };
  writeFileAtomic(files.markdown, md.join('\n'));
  writeFileAtomic(files.json, JSON.stringify(json, null, 1) + '\n');
  writeProbeTables(outDir, r);
  return files;
}
