import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import * as tf from '@tensorflow/tfjs-core';
import { layersUpTo, loadModelInput } from './input';
import { BackendArgs, runCommand, selectBackend, withBackend } from './run';
import { UsageError } from '../errors';
import { disposeOutput, inputTensors, loadModel, namedOutputs } from '../models';
import { writeSafetensors } from '../weights/safetensors';

interface ForwardArgs extends BackendArgs {
  model: string;
  input: string;
  out: string;
  layers?: string;
}

export const forwardCommand: CommandModule<object, ForwardArgs> = {
  command: 'forward',
  describe: 'Run a model on one input and write every layer output to a safetensors file',
  builder: (y) =>
    withBackend(y)
      .option('model', { type: 'string', demandOption: true, describe: 'model directory (HF checkpoint or converted)' })
      .option('input', {
        type: 'string',
        demandOption: true,
        describe: 'audio file (wav, flac, mp3) or .safetensors with input_values [, attention_mask]',
      })
      .option('out', { type: 'string', demandOption: true, describe: 'output .safetensors (tensors named like the golden cases)' })
      .option('layers', { type: 'string', describe: '0..k: stop after encoder layer k (default: all)' }),
  handler: (args) =>
    runCommand('forward', async () => {
      const outDir = path.dirname(path.resolve(args.out));
      if (!fs.existsSync(outDir)) throw new UsageError(`output directory ${outDir} does not exist`, args.out);
      await selectBackend(args);
      const model = loadModel(args.model);
      try {
        const upToLayer = layersUpTo(args.layers, model.config.numHiddenLayers);
        const input = await loadModelInput(args.input, model);
        const { inputValues, attentionMask } = inputTensors(input);
        const out = model.forward(inputValues, { attentionMask, upToLayer });
        const named = namedOutputs(out);
        tf.dispose([inputValues, attentionMask]);
        disposeOutput(out);
        writeSafetensors(args.out, named, { model_type: model.config.modelType, input: args.input, up_to_layer: String(upToLayer) });
        const shape = named.get('hidden_states_0')!.shape;
        console.log(`${args.out}: ${named.size} tensors, hidden_states_0..${upToLayer} [${shape.join(', ')}]`);
      } finally {
        model.dispose();
      }
    }),
};
