/**
 * Seeded random weights for any config, built in memory: the benchmarks run real sizes on them without multi-GB
 * files (lib/bench/presets.ts), and tools/make-demo-model.ts makes the bundled demo model from them. A WeightSet
 * in the stored layouts lib/models reads, initialised at the scales HF's _init_weights uses, so activations have
 * realistic magnitudes. For memory and speed work and the demo, not for accuracy.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mulberry32 } from '../random';
import type { ModelSource } from './index';
import { DEFAULT_PREPROCESSOR, ModelConfig, modelConfigToJson, preprocessorConfigToJson } from '../weights/config';
import { weightsFingerprint } from '../weights/fingerprint';
import { StoreDtype, StoreInfo, writeStore } from '../weights/store';
import { expectedWeights, storedShape } from '../weights/keymap';
import { WeightSet, sizeOf } from '../weights/tensor';

type Init = { kind: 'normal' | 'uniform'; scale: number } | { kind: 'const'; value: number };

/** HF _init_weights, by key: Linear N(0, 0.02), norms 1/0, conv kaiming, projection and conv biases U(±1/√fan_in). */
function initFor(key: string, hfShape: number[], c: ModelConfig): Init {
  const fanIn = hfShape.length === 3 ? hfShape[1] * hfShape[2] : hfShape[hfShape.length - 1];
  if (/layer_norm\.weight$/.test(key) || key.endsWith('gru_rel_pos_const')) return { kind: 'const', value: 1 };
  if (key.startsWith('encoder.pos_conv_embed.conv.weight'))
    return { kind: 'normal', scale: 2 * Math.sqrt(1 / (c.numConvPosEmbeddings * c.hiddenSize)) };
  if (key.startsWith('feature_extractor') && key.endsWith('conv.weight')) return { kind: 'normal', scale: Math.sqrt(2 / fanIn) };
  if (key.startsWith('feature_extractor') && key.endsWith('conv.bias')) {
    const i = Number(key.split('.')[2]);
    return { kind: 'uniform', scale: 1 / Math.sqrt((i === 0 ? 1 : c.convDim[i - 1]) * c.convKernel[i]) };
  }
  if (key.startsWith('feature_projection.projection')) return { kind: 'uniform', scale: 1 / Math.sqrt(c.convDim[c.convDim.length - 1]) };
  if (key.endsWith('rel_attn_embed.weight')) return { kind: 'normal', scale: 1 };
  if (key.endsWith('.weight')) return { kind: 'normal', scale: 0.02 };
  return { kind: 'const', value: 0 }; // biases
}

/** Every weight the forward pass reads, in stored layout, from one seed. */
export function randomWeights(c: ModelConfig, seed = 1): WeightSet {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()); // Box–Muller
  const weights: WeightSet = new Map();
  for (const e of expectedWeights(c)) {
    const shape = storedShape(e);
    const data = new Float32Array(sizeOf(shape));
    const init = initFor(e.key, e.hfShape, c);
    if (init.kind === 'const') data.fill(init.value);
    else if (init.kind === 'normal') for (let i = 0; i < data.length; i++) data[i] = init.scale * normal();
    else for (let i = 0; i < data.length; i++) data[i] = init.scale * (2 * rand() - 1);
    weights.set(e.key, { shape, data });
  }
  return weights;
}

/** A config with random weights, as a source for createModel(). */
export function randomModelSource(config: ModelConfig, seed = 1): ModelSource {
  return { config, preprocessor: DEFAULT_PREPROCESSOR, weights: randomWeights(config, seed) };
}

/**
 * A config with seeded random weights written as a store at `out` (writeStore: atomic, `out` must not exist yet):
 * the bundled demo model (tools/make-demo-model.ts) and the stores the browser benchmark serves.
 */
export function writeRandomStore(out: string, config: ModelConfig, opts: { seed?: number; dtype: StoreDtype; source: string }): StoreInfo {
  const seed = opts.seed ?? 1;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-random-store-'));
  try {
    const configJson = Buffer.from(JSON.stringify(modelConfigToJson(config), null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, 'config.json'), configJson);
    fs.writeFileSync(path.join(tmp, 'preprocessor_config.json'), JSON.stringify(preprocessorConfigToJson(DEFAULT_PREPROCESSOR), null, 2) + '\n');
    const weights = randomWeights(config, seed);
    const ckpt = {
      dir: tmp,
      weightFile: path.join(tmp, `random-seed-${seed}`),
      config,
      preprocessor: DEFAULT_PREPROCESSOR,
      weights,
      fingerprint: weightsFingerprint(configJson, weights),
    };
    return writeStore(out, ckpt, { dtype: opts.dtype, source: opts.source });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
