import type { CommandModule } from 'yargs';
import * as tf from '@tensorflow/tfjs-core';
import { loadModelInput } from './input';
import { BackendArgs, runCommand, selectBackend, withBackend } from './run';
import { BlockParameters, LayerStats, describeArchitecture, disposeOutput, inputTensors, layerStats, loadModel, parameterCounts } from '../models';

interface InspectArgs extends BackendArgs {
  model: string;
  input?: string;
  json?: boolean;
}

/** Runs of encoder layers with the same count shown once: "encoder.layers.1..11". */
function groupLayers(blocks: BlockParameters[]): { block: string; count: number; each: boolean }[] {
  const rows: { block: string; count: number; each: boolean; first?: number; last?: number }[] = [];
  for (const b of blocks) {
    const l = /^encoder\.layers\.(\d+)$/.exec(b.block);
    const prev = rows[rows.length - 1];
    if (l && prev?.last !== undefined && prev.count === b.count && prev.last === Number(l[1]) - 1) {
      prev.last++;
      prev.block = `encoder.layers.${prev.first}..${prev.last}`;
      prev.each = true;
    } else rows.push({ ...b, each: false, ...(l ? { first: Number(l[1]), last: Number(l[1]) } : {}) });
  }
  return rows;
}

const fmt = (x: number, w = 10) => x.toFixed(4).padStart(w);

function printText(arch: Record<string, unknown>, blocks: BlockParameters[], stats?: LayerStats[]): void {
  for (const [k, v] of Object.entries(arch)) console.log(`${k.padEnd(24)} ${v}`);
  console.log('\nparameters');
  for (const r of groupLayers(blocks)) console.log(`  ${r.block.padEnd(30)} ${r.count.toLocaleString('en-US').padStart(13)}${r.each ? ' each' : ''}`);
  console.log(
    `  ${'total'.padEnd(30)} ${blocks
      .reduce((n, b) => n + b.count, 0)
      .toLocaleString('en-US')
      .padStart(13)}`,
  );
  if (!stats) return;
  console.log('\nhidden states (valid frames)      attention entropy per head (nats)');
  console.log(`  layer       mean        std frame_norm`);
  for (const s of stats) {
    const ent = s.attentionEntropy ? '  ' + s.attentionEntropy.map((e) => e.toFixed(2)).join(' ') : '';
    console.log(`  ${String(s.layer).padStart(5)} ${fmt(s.mean)} ${fmt(s.std)} ${fmt(s.frameNorm)}${ent}`);
  }
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect',
  describe: 'Show a model: architecture, parameters per block, and (with --input) per-layer activation statistics',
  builder: (y) =>
    withBackend(y)
      .option('model', { type: 'string', demandOption: true, describe: 'model directory (HF checkpoint or converted)' })
      .option('input', { type: 'string', describe: 'audio file or .safetensors input: adds per-layer statistics' })
      .option('json', { type: 'boolean', describe: 'one JSON object' }),
  handler: (args) =>
    runCommand('inspect', async () => {
      await selectBackend(args);
      const model = loadModel(args.model);
      try {
        const arch = describeArchitecture(model.config);
        const blocks = parameterCounts(model.config);
        let stats: LayerStats[] | undefined;
        if (args.input) {
          const { inputValues, attentionMask } = inputTensors(await loadModelInput(args.input, model));
          const out = model.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true } });
          stats = layerStats(out);
          tf.dispose([inputValues, attentionMask]);
          disposeOutput(out);
        }
        if (args.json) console.log(JSON.stringify({ architecture: arch, parameters: blocks, layers: stats }));
        else printText(arch, blocks, stats);
      } finally {
        model.dispose();
      }
    }),
};
