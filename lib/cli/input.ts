/** What the commands that run a model directly (forward, inspect, bench forward) take: an input file and `--layers`. */
import { loadAudio } from '../audio';
import { DataError } from '../errors';
import { parseLayers } from '../features/frontends';
import { ModelInput, preprocess, receptiveField } from '../models';
import { ModelConfig, PreprocessorConfig } from '../weights/config';
import { readSafetensors } from '../weights/safetensors';
import { HostTensor } from '../weights/tensor';

/** Where the forward pass can stop for a `--layers` spec: the deepest layer it asks for. */
export function layersUpTo(spec: string | undefined, numLayers: number): number {
  const layers = parseLayers(spec, numLayers);
  return layers[layers.length - 1];
}

/**
 * A model input from a file. A `.safetensors` file supplies `input_values` [B, N] (or [N]) and, if present,
 * `attention_mask`, fed to the model as they are (the golden case files are such files). Anything else is
 * audio: decoded, mixed to mono, resampled to the preprocessor's rate, then preprocessed like HF would.
 */
export async function loadModelInput(file: string, model: { config: ModelConfig; preprocessor: PreprocessorConfig }): Promise<ModelInput> {
  if (file.toLowerCase().endsWith('.safetensors')) return readInputTensors(file);
  const audio = await loadAudio(file, { sampleRate: model.preprocessor.samplingRate, minSamples: receptiveField(model.config) });
  return preprocess([audio.samples], model.preprocessor);
}

function readInputTensors(file: string): ModelInput {
  const t = readSafetensors(file, (n) => n === 'input_values' || n === 'attention_mask');
  const values = t.get('input_values');
  if (!values) throw new DataError('no "input_values" tensor', file);
  const [B, N] = rows(values, 'input_values', file);
  const mask = t.get('attention_mask');
  if (mask) {
    const [mb, mn] = rows(mask, 'attention_mask', file);
    if (mb !== B || mn !== N) throw new DataError(`attention_mask is [${mb}, ${mn}] but input_values is [${B}, ${N}]`, file);
    if (mask.data.some((v) => v !== 0 && v !== 1)) throw new DataError('attention_mask holds values other than 0 and 1', file);
  }
  return { inputValues: values.data, attentionMask: mask?.data, B, N };
}

function rows(t: HostTensor, name: string, file: string): [number, number] {
  if (t.shape.length === 1) return [1, t.shape[0]];
  if (t.shape.length === 2) return [t.shape[0], t.shape[1]];
  throw new DataError(`${name} must be [batch, samples] or [samples], got ${JSON.stringify(t.shape)}`, file);
}
