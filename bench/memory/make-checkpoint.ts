/**
 * Writes a HF-format checkpoint directory (config.json + model.safetensors, F32, HF layouts and names) of a bench
 * preset's shape with seeded random weights, one tensor at a time: XLS-R 1B's 3.9 GB without holding it in memory.
 * For measuring `convert` and loading at real sizes (bench/RESULTS.md, "Memory").
 *   npx tsx bench/memory/make-checkpoint.ts --arch xlsr-1b --out /tmp/xlsr-1b-hf [--seed 1]
 */
import * as fs from 'fs';
import * as path from 'path';
import { PRESETS, PresetName } from '../../lib/bench/presets';
import { mulberry32 } from '../../lib/random';
import { modelConfigToJson } from '../../lib/weights/config';
import { expectedWeights } from '../../lib/weights/keymap';
import { writeSafetensors } from '../../lib/weights/safetensors';
import { sizeOf } from '../../lib/weights/tensor';
import { arg } from '../args';

const arch = arg('arch') as PresetName;
const out = arg('out');
const seed = Number(arg('seed', '1'));
const config = PRESETS[arch];
if (!config) throw new Error(`unknown arch ${arch}`);
if (fs.existsSync(out)) throw new Error(`${out} exists`);

const rand = mulberry32(seed);
// Layer norm scales 1, everything else U(±0.02·√3) (std 0.02, HF's Linear init): realistic magnitudes, fast to draw.
const tensors = new Map(
  expectedWeights(config).map((e) => {
    const data = () => {
      const x = new Float32Array(sizeOf(e.hfShape));
      if (/layer_norm\.weight$/.test(e.key)) x.fill(1);
      else for (let i = 0; i < x.length; i++) x[i] = 0.0346 * (2 * rand() - 1);
      return x;
    };
    return [e.key, { shape: e.hfShape, data }];
  }),
);
const tmp = `${out}.tmp-${process.pid}`;
fs.mkdirSync(tmp, { recursive: true });
fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(modelConfigToJson(config), null, 2) + '\n');
writeSafetensors(path.join(tmp, 'model.safetensors'), tensors);
fs.renameSync(tmp, out);
console.log(JSON.stringify({ out, arch, tensors: tensors.size, bytes: fs.statSync(path.join(out, 'model.safetensors')).size }));
