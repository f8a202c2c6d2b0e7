/** Plots of a feature store (`wavprobe explore`): PCA scatter per layer and the per-layer separability curve. */
import { LayerView } from '../probe/explore';
import { CONFIG, PlotSpec, SCHEMA, writePlot } from './plots';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** What the points of a PCA scatter are coloured by: one category per row. */
export interface Colouring {
  /** The legend's title and the file's suffix: `label`, or an index column such as `attack` or `speaker`. */
  name: string;
  values: readonly string[];
}

/** More categories than this: the most frequent ones keep their colour, the rest are drawn grey as "other". */
export const MAX_CATEGORIES = 10;
const OTHER = 'other';

/** The label colouring: bona fide blue, spoof red, as in every other plot. */
export const labelColouring = (labels: ArrayLike<number>): Colouring => ({
  name: 'label',
  values: Array.from(labels, (y) => (y ? 'spoof' : 'bona fide')),
});

/** The categories in legend order (most frequent first, "other" last) and each row's category. */
function categories(c: Colouring): { domain: string[]; rows: string[] } {
  const counts = new Map<string, number>();
  for (const v of c.values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const byCount = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || a.localeCompare(b));
  if (byCount.length <= MAX_CATEGORIES) return { domain: byCount.sort((a, b) => a.localeCompare(b)), rows: [...c.values] };
  const kept = new Set(byCount.slice(0, MAX_CATEGORIES - 1));
  return { domain: [...kept, OTHER], rows: c.values.map((v) => (kept.has(v) ? v : OTHER)) };
}

function colourScale(c: Colouring, domain: string[]): Record<string, unknown> {
  if (c.name === 'label') return { domain: ['bona fide', 'spoof'], range: ['#4c78a8', '#e45756'] };
  const palette = ['#4c78a8', '#e45756', '#54a24b', '#f58518', '#b279a2', '#72b7b2', '#eeca3b', '#9d755d', '#ff9da6'];
  return { domain, range: domain.map((v, i) => (v === OTHER ? '#bbbbbb' : palette[i % palette.length])) };
}

/** The first two principal components of each layer, one panel per layer, points coloured by `colouring`. */
export function pcaScatter(views: LayerView[], colouring: Colouring): PlotSpec {
  const { domain, rows } = categories(colouring);
  const values = views.flatMap(({ layer, pca }) =>
    rows.map((group, r) => ({
      panel: `layer ${layer}: ${pct(pca.explained[0])} + ${pct(pca.explained[1] ?? 0)}`,
      pc1: pca.scores[r * 2],
      pc2: pca.scores[r * 2 + 1] ?? 0,
      group,
    })),
  );
  const by = colouring.name === 'label' ? '' : ` coloured by ${colouring.name}`;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: `Pooled features, first two principal components${by}`,
      subtitle: 'per layer; panel titles give the variance each component explains',
    },
    data: { values },
    facet: { field: 'panel', type: 'ordinal', title: null, sort: null, header: { labelFontSize: 12 } },
    columns: Math.min(4, views.length),
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 180,
      height: 180,
      mark: { type: 'point', filled: true, size: 14, opacity: 0.6 },
      encoding: {
        x: { field: 'pc1', type: 'quantitative', title: 'PC 1', axis: { tickCount: 4 } },
        y: { field: 'pc2', type: 'quantitative', title: 'PC 2', axis: { tickCount: 4 } },
        color: { field: 'group', type: 'nominal', title: colouring.name === 'label' ? null : colouring.name, scale: colourScale(colouring, domain) },
      },
    },
  } as PlotSpec;
}

/**
 * Fisher ratio per layer along the class-mean difference and, where a head is given, along the head's direction;
 * below it, each head's accuracy on the store.
 */
export function separabilityChart(views: LayerView[]): PlotSpec {
  const fisher = views.flatMap((v) => [
    { layer: v.layer, fisher: v.fisher, direction: 'class-mean difference' },
    ...(v.head ? [{ layer: v.layer, fisher: v.head.fisher, direction: "the head's direction" }] : []),
  ]);
  const x = { field: 'layer', type: 'ordinal', title: 'layer', axis: { labelAngle: 0 } } as const;
  const fisherChart = {
    width: 420,
    height: 220,
    data: { values: fisher },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x,
      y: { field: 'fisher', type: 'quantitative', title: 'Fisher ratio' },
      color: { field: 'direction', type: 'nominal', title: 'along', scale: { domain: ['class-mean difference', "the head's direction"] } },
    },
  };
  const withHeads = views.filter((v) => v.head);
  const title = {
    text: 'Separability per layer',
    subtitle: `Fisher ratio (m₁ − m₀)² / (s₁² + s₀²) of the projections${withHeads.length ? "; below, each layer's head's accuracy on this store" : ''}`,
  };
  if (!withHeads.length) return { $schema: SCHEMA, config: CONFIG, title, ...fisherChart } as PlotSpec;
  const accuracyChart = {
    width: 420,
    height: 140,
    data: { values: withHeads.map((v) => ({ layer: v.layer, accuracy: v.head!.accuracy })) },
    mark: { type: 'line', point: { color: '#54a24b' }, strokeWidth: 2, color: '#54a24b' },
    encoding: {
      x,
      y: {
        field: 'accuracy',
        type: 'quantitative',
        title: 'head accuracy',
        axis: { format: '%' },
        scale: { domain: [Math.min(0.5, ...withHeads.map((v) => v.head!.accuracy)), 1] },
      },
    },
  };
  return { $schema: SCHEMA, config: CONFIG, title, vconcat: [fisherChart, accuracyChart] } as PlotSpec;
}

/**
 * Writes pca.{png,svg} (by label), pca_<column>.{png,svg} for each extra colouring, and separability.{png,svg}
 * into `dir`; returns the paths.
 */
export async function writeExplorePlots(dir: string, views: LayerView[], colourings: Colouring[]): Promise<string[]> {
  const files: string[] = [];
  const file = (c: Colouring) => (c.name === 'label' ? 'pca' : `pca_${c.name.replace(/[^\w-]/g, '_')}`);
  const plots: [string, PlotSpec][] = colourings.map((c) => [file(c), pcaScatter(views, c)]);
  plots.push(['separability', separabilityChart(views)]);
  for (const [name, spec] of plots) {
    const f = await writePlot(dir, name, spec);
    files.push(f.png, f.svg);
  }
  return files;
}
