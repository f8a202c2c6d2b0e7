/** The layer-wise probe report: report.md, report.json, one head per layer, and the layer-wise chart per eval set. */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic';
import { writeHead } from '../probe/head';
import { LayerResult, probeTable } from '../probe/layerwise';
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

export async function writeProbeReport(outDir: string, r: ProbeReportInput): Promise<{ markdown: string; json: string }> {
  fs.mkdirSync(path.join(outDir, 'heads'), { recursive: true });
  for (const x of r.results) writeHead(path.join(outDir, 'heads', `layer_${String(x.layer).padStart(2, '0')}.json`), x.head);
  for (const b of r.baselines ?? []) writeHead(path.join(outDir, 'heads', `${slug(b.label)}.json`), b.result.head);
  const names = Object.keys(r.results[0]?.eval ?? {});
  const md = [`# ${r.title}`, '', ...r.intro.flatMap((p) => [p, '']), probeTable(r.results, r.baselines), ''];
  for (const name of names) {
    const rows = r.results.map((x) => ({ layer: x.layer, eer: x.eval[name].calibrated.eer_asvspoof, ece: x.eval[name].calibrated.ece_15 }));
    const plot = `layerwise_${slug(name)}`;
    await writePlot(outDir, plot, layerwiseChart(rows, `EER and ECE per layer on ${name} (after calibration)`));
    md.push(`![layer-wise EER and ECE on ${name}](${plot}.png)`, '');
  }
  const json = {
    title: r.title,
    ...r.extra,
    layers: r.results.map((x) => ({
      layer: x.layer,
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
  return files;
}
