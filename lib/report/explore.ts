/** Plots of a feature store (`wavprobe explore`): PCA scatter per layer and the per-layer separability curve. */
import { LayerView } from '../probe/explore';
import { CONFIG, PlotSpec, SCHEMA, writePlot } from './plots';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** The first two principal components of each layer, one panel per layer, points coloured by label. */
export function pcaScatter(views: LayerView[], labels: ArrayLike<number>): PlotSpec {
  const values = views.flatMap(({ layer, pca }) =>
    Array.from(labels, (y, r) => ({
      panel: `layer ${layer}: ${pct(pca.explained[0])} + ${pct(pca.explained[1] ?? 0)}`,
      pc1: pca.scores[r * 2],
      pc2: pca.scores[r * 2 + 1] ?? 0,
      label: y ? 'spoof' : 'bona fide',
    })),
  );
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Pooled features, first two principal components', subtitle: 'per layer; panel titles give the variance each component explains' },
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
        color: { field: 'label', type: 'nominal', title: null, scale: { domain: ['bona fide', 'spoof'], range: ['#4c78a8', '#e45756'] } },
      },
    },
  } as PlotSpec;
}

/** Fisher ratio along the class-mean difference per layer. */
export function separabilityChart(views: LayerView[]): PlotSpec {
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Separability per layer', subtitle: 'Fisher ratio (m₁ − m₀)² / (s₁² + s₀²) along the class-mean difference' },
    width: 420,
    height: 220,
    data: { values: views.map((v) => ({ layer: v.layer, fisher: v.fisher })) },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'layer', type: 'ordinal', title: 'layer', axis: { labelAngle: 0 } },
      y: { field: 'fisher', type: 'quantitative', title: 'Fisher ratio' },
    },
  } as PlotSpec;
}

/** Writes pca.{png,svg} and separability.{png,svg} into `dir`; returns the paths. */
export async function writeExplorePlots(dir: string, views: LayerView[], labels: ArrayLike<number>): Promise<string[]> {
  const files: string[] = [];
  for (const [name, spec] of [
    ['pca', pcaScatter(views, labels)],
    ['separability', separabilityChart(views)],
  ] as const) {
    const f = await writePlot(dir, name, spec);
    files.push(f.png, f.svg);
  }
  return files;
}
