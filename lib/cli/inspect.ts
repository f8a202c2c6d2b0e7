import type { CommandModule } from 'yargs';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { loadModelInput } from './input';
import { BackendArgs, runCommand, selectBackend, withBackend } from './run';
import {
  BlockParameters,
  LayerStats,
  describeArchitecture,
  disposeOutput,
  inputTensors,
  layerSimilarity,
  layerStats,
  loadModel,
  parameterCounts,
} from '../models';
import { writeInsidePlots } from '../report/inside';

interface InspectArgs extends BackendArgs {
  model: string;
  input?: string;
  json?: boolean;
  similarity: boolean;
  plots?: string;
  layer?: number;
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

function printText(arch: Record<string, unknown>, blocks: BlockParameters[], stats?: LayerStats[], similarity?: number[][]): void {
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
  if (!similarity) return;
  console.log('\nlayer similarity (linear CKA, rows and columns are hidden states 0..L)');
  for (const [l, row] of similarity.entries()) console.log(`  ${String(l).padStart(5)} ${row.map((v) => v.toFixed(2)).join(' ')}`);
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect',
  describe:
    'Show a model: architecture, parameters per block, and (with --input) per-layer activation statistics and layer similarity (CKA); --plots draws them',
  builder: (y) =>
    withBackend(y)
      .option('model', { type: 'string', demandOption: true, describe: 'model directory (HF checkpoint or converted)' })
      .option('input', { type: 'string', describe: 'audio file or .safetensors input: adds per-layer statistics' })
      .option('json', { type: 'boolean', describe: 'one JSON object' })
      .option('similarity', {
        type: 'boolean',
        default: true,
        describe: 'with --input: linear CKA between every pair of hidden states (float64; --no-similarity skips it on long inputs)',
      })
      .option('plots', {
        type: 'string',
        describe: 'with --input: write PNG + SVG plots here (CKA, activations, attention entropy and maps, conv features, waveform)',
      })
      .option('layer', { type: 'number', describe: 'with --plots: the layer (1..L) whose every attention head is drawn (default L)' }),
  handler: (args) =>
    runCommand('inspect', async () => {
      await selectBackend(args);
      const model = loadModel(args.model);
      try {
        const arch = describeArchitecture(model.config);
        const blocks = parameterCounts(model.config);
        const L = model.config.numHiddenLayers;
        if (args.plots !== undefined && !args.input) throw new UsageError('--plots needs --input');
        const layer = args.layer ?? L;
        if (!Number.isInteger(layer) || layer < 1 || layer > L) throw new UsageError(`--layer must be an integer in 1..${L}, got ${args.layer}`);
        let stats: LayerStats[] | undefined;
        let similarity: number[][] | undefined;
        const files: string[] = [];
        if (args.input) {
          const input = await loadModelInput(args.input, model);
          const { inputValues, attentionMask } = inputTensors(input);
          // Attention maps are O(T²) per head and layer: only for the plots.
          const out = model.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true, attentionMaps: args.plots !== undefined } });
          try {
            stats = layerStats(out);
            if (args.similarity) similarity = layerSimilarity(out);
            if (args.plots !== undefined) {
              fs.mkdirSync(args.plots, { recursive: true });
              const samples = input.inputValues.subarray(0, input.N); // first row
              const sampleRate = model.preprocessor.samplingRate;
              files.push(
                ...(await writeInsidePlots(args.plots, {
                  config: model.config,
                  sampleRate,
                  samples,
                  out,
                  stats,
                  similarity: similarity ?? layerSimilarity(out),
                  layer,
                })),
              );
            }
          } finally {
            tf.dispose([inputValues, attentionMask]);
            disposeOutput(out);
          }
        }
        if (args.json)
          console.log(
            JSON.stringify({
              architecture: arch,
              parameters: blocks,
              layers: stats,
              layer_similarity: similarity,
              plots: files.length ? files : undefined,
            }),
          );
        else {
          printText(arch, blocks, stats, similarity);
          for (const f of files) console.log(`wrote ${f}`);
        }
      } finally {
        model.dispose();
      }
    }),
};
