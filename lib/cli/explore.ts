import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { UsageError } from '../errors';
import { readStore } from '../features/store';
import { exploreStore, HeadView, headView } from '../probe/explore';
import { readHead } from '../probe/head';
import { Colouring, labelColouring, writeExplorePlots } from '../report/explore';
import { runCommand } from './run';

interface ExploreArgs {
  features: string;
  layer?: number;
  out: string;
  'color-by'?: string[];
  heads?: string[];
  'allow-model-mismatch'?: boolean;
  json?: boolean;
}

/** Head files: each FILE as given, and each DIR's layer_NN.json (what `probe --out` writes into heads/). */
function headFiles(paths: string[]): string[] {
  return paths.flatMap((p) =>
    fs.statSync(p, { throwIfNoEntry: false })?.isDirectory()
      ? fs
          .readdirSync(p)
          .filter((f) => /^layer_\d+\.json$/.test(f))
          .sort()
          .map((f) => path.join(p, f))
      : [p],
  );
}

export const exploreCommand: CommandModule<object, ExploreArgs> = {
  command: 'explore',
  describe: 'A feature store seen whole: PCA scatter of the pooled features per layer (by label) and the Fisher ratio per layer',
  builder: (y) =>
    y
      .option('features', { type: 'string', demandOption: true, describe: 'feature store' })
      .option('layer', { type: 'number', describe: 'only this layer (default: every layer of the store)' })
      .option('out', { type: 'string', demandOption: true, describe: 'write pca and separability plots (PNG + SVG) here' })
      .option('color-by', {
        type: 'string',
        array: true,
        describe: 'also colour the PCA scatter by these index.csv columns (e.g. attack speaker): pca_<column>.png each',
      })
      .option('heads', {
        type: 'string',
        array: true,
        describe: "head files, or probe --out's heads/ folder: Fisher ratio along each head's direction and its accuracy on the store",
      })
      .option('allow-model-mismatch', { type: 'boolean', describe: 'score heads trained on features of another model' })
      .option('json', { type: 'boolean', describe: 'print {"layers": [{"layer", "fisher", "variances", "explained", "head"?}], "plots"}' }),
  handler: (args) =>
    runCommand('explore', async () => {
      const store = readStore(args.features, args.layer === undefined ? {} : { layers: [args.layer] });
      const colourings: Colouring[] = [labelColouring(store.labels)];
      for (const column of args['color-by'] ?? []) {
        if (!store.header.includes(column))
          throw new UsageError(`--color-by ${column}: ${args.features}/index.csv has no such column (it has ${store.header.join(', ')})`);
        colourings.push({ name: column, values: store.index.map((r) => r[column]) });
      }
      const heads = new Map<number, HeadView>();
      for (const file of headFiles(args.heads ?? [])) {
        const head = readHead(file);
        if (!store.layers.has(head.layer)) continue; // --layer picked another one
        if (heads.has(head.layer)) throw new UsageError(`--heads: two heads for layer ${head.layer} (the second is ${file})`);
        heads.set(head.layer, headView(head, args.features, { allowModelMismatch: args['allow-model-mismatch'] }));
      }
      const views = exploreStore(store, heads);
      fs.mkdirSync(args.out, { recursive: true });
      const plots = await writeExplorePlots(args.out, views, colourings);
      const layers = views.map((v) => ({ layer: v.layer, fisher: v.fisher, variances: v.pca.variances, explained: v.pca.explained, head: v.head }));
      if (args.json) console.log(JSON.stringify({ layers, plots }));
      else {
        console.log(`layer  fisher  PC1     PC2${heads.size ? '     head fisher  accuracy' : ''}`);
        for (const l of layers)
          console.log(
            `${String(l.layer).padStart(5)} ${l.fisher.toFixed(4).padStart(7)} ${(100 * l.explained[0]).toFixed(1).padStart(5)}% ${(100 * (l.explained[1] ?? 0)).toFixed(1).padStart(5)}%` +
              (l.head ? ` ${l.head.fisher.toFixed(4).padStart(12)} ${(100 * l.head.accuracy).toFixed(1).padStart(8)}%` : ''),
          );
        for (const f of plots) console.log(`wrote ${f}`);
      }
    }),
};
