import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { readStore } from '../features/store';
import { exploreStore } from '../probe/explore';
import { writeExplorePlots } from '../report/explore';
import { runCommand } from './run';

interface ExploreArgs {
  features: string;
  layer?: number;
  out: string;
  json?: boolean;
}

export const exploreCommand: CommandModule<object, ExploreArgs> = {
  command: 'explore',
  describe: 'A feature store seen whole: PCA scatter of the pooled features per layer (by label) and the Fisher ratio per layer',
  builder: (y) =>
    y
      .option('features', { type: 'string', demandOption: true, describe: 'feature store' })
      .option('layer', { type: 'number', describe: 'only this layer (default: every layer of the store)' })
      .option('out', { type: 'string', demandOption: true, describe: 'write pca and separability plots (PNG + SVG) here' })
      .option('json', { type: 'boolean', describe: 'print {"layers": [{"layer", "fisher", "variances", "explained"}], "plots"}' }),
  handler: (args) =>
    runCommand('explore', async () => {
      const store = readStore(args.features, args.layer === undefined ? {} : { layers: [args.layer] });
      const views = exploreStore(store);
      fs.mkdirSync(args.out, { recursive: true });
      const plots = await writeExplorePlots(args.out, views, store.labels);
      const layers = views.map((v) => ({ layer: v.layer, fisher: v.fisher, variances: v.pca.variances, explained: v.pca.explained }));
      if (args.json) console.log(JSON.stringify({ layers, plots }));
      else {
        console.log('layer  fisher  PC1     PC2');
        for (const l of layers)
          console.log(
            `${String(l.layer).padStart(5)} ${l.fisher.toFixed(4).padStart(7)} ${(100 * l.explained[0]).toFixed(1).padStart(5)}% ${(100 * (l.explained[1] ?? 0)).toFixed(1).padStart(5)}%`,
          );
        for (const f of plots) console.log(`wrote ${f}`);
      }
    }),
};
