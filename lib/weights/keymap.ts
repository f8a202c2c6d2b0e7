/**
 * HF checkpoint keys → the weight set the forward pass reads. Keys keep their HuggingFace names (prefix such as
 * `wav2vec2.` stripped, task heads ignored) so code maps to checkpoint; only layouts change, once, here:
 *   Linear  `*.weight` [out, in]        → [in, out]          (x·W without a transposed matmul)
 *   Conv1d  `*.conv.weight` [out, in/g, K] → [K, in/g, out]  (tfjs conv1d filter layout)
 *   pos conv weight norm (g, v) → `encoder.pos_conv_embed.conv.weight` = g·v/‖v‖, norm per tap k over dims 0,1.
 * Strict: a missing needed key, an unexpected key inside the model, or a wrong shape is an error naming the key.
 */
import { CheckpointError } from '../errors';
import { ModelConfig } from './config';
import { HostTensor, WeightSet, sizeOf } from './tensor';

export type Layout = 'as-is' | 'linear' | 'conv';

export interface ExpectedWeight {
  key: string;
  /** Shape in the HF checkpoint. */
  hfShape: number[];
  layout: Layout;
}

/** Every weight the forward pass needs, with its checkpoint shape. */
export function expectedWeights(c: ModelConfig): ExpectedWeight[] {
  const H = c.hiddenSize;
  const out: ExpectedWeight[] = [];
  const add = (key: string, hfShape: number[], layout: Layout = 'as-is') => out.push({ key, hfShape, layout });
  c.convDim.forEach((ch, i) => {
    const p = `feature_extractor.conv_layers.${i}`;
    add(`${p}.conv.weight`, [ch, i === 0 ? 1 : c.convDim[i - 1], c.convKernel[i]], 'conv');
    if (c.convBias) add(`${p}.conv.bias`, [ch]);
    if (c.featExtractNorm === 'layer' || i === 0) {
      add(`${p}.layer_norm.weight`, [ch]);
      add(`${p}.layer_norm.bias`, [ch]);
    }
  });
  const C = c.convDim[c.convDim.length - 1];
  add('feature_projection.layer_norm.weight', [C]);
  add('feature_projection.layer_norm.bias', [C]);
  add('feature_projection.projection.weight', [H, C], 'linear');
  add('feature_projection.projection.bias', [H]);
  add('encoder.pos_conv_embed.conv.weight', [H, H / c.numConvPosEmbeddingGroups, c.numConvPosEmbeddings], 'conv');
  add('encoder.pos_conv_embed.conv.bias', [H]);
  add('encoder.layer_norm.weight', [H]);
  add('encoder.layer_norm.bias', [H]);
  const heads = c.numAttentionHeads;
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `encoder.layers.${l}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      add(`${p}.attention.${proj}.weight`, [H, H], 'linear');
      add(`${p}.attention.${proj}.bias`, [H]);
    }
    if (c.modelType === 'wavlm') {
      add(`${p}.attention.gru_rel_pos_const`, [1, heads, 1, 1]);
      add(`${p}.attention.gru_rel_pos_linear.weight`, [8, H / heads], 'linear');
      add(`${p}.attention.gru_rel_pos_linear.bias`, [8]);
      if (l === 0) add(`${p}.attention.rel_attn_embed.weight`, [c.numBuckets, heads]);
    }
    for (const ln of ['layer_norm', 'final_layer_norm']) {
      add(`${p}.${ln}.weight`, [H]);
      add(`${p}.${ln}.bias`, [H]);
    }
    add(`${p}.feed_forward.intermediate_dense.weight`, [c.intermediateSize, H], 'linear');
    add(`${p}.feed_forward.intermediate_dense.bias`, [c.intermediateSize]);
    add(`${p}.feed_forward.output_dense.weight`, [H, c.intermediateSize], 'linear');
    add(`${p}.feed_forward.output_dense.bias`, [H]);
  }
  return out;
}

/** The weight's shape after mapCheckpoint changed its layout. */
export function storedShape(e: ExpectedWeight): number[] {
  const s = e.hfShape;
  if (e.layout === 'linear') return [s[1], s[0]];
  if (e.layout === 'conv') return [s[2], s[1], s[0]];
  return s.slice();
}

const POS = 'encoder.pos_conv_embed.conv';
const WEIGHT_NORM_NAMES: [string, string][] = [
  [`${POS}.weight_g`, `${POS}.weight_v`],
  [`${POS}.parametrizations.weight.original0`, `${POS}.parametrizations.weight.original1`],
];
/** Present in bare checkpoints but unused at inference. */
const IGNORED_BARE = new Set(['masked_spec_embed']);

/**
 * Picks the base-model keys out of a raw state dict: bare `*Model` checkpoints as they are, task or pre-training
 * checkpoints by their `<model_type>.` prefix (everything outside it — lm_head, projector, classifier, quantizer,
 * project_q, … — is a head and ignored).
 */
export function baseModelKeys(raw: Map<string, HostTensor>, c: ModelConfig): Map<string, HostTensor> {
  const prefix = `${c.modelType}.`;
  const prefixed = [...raw.keys()].some((k) => k.startsWith(prefix));
  const out = new Map<string, HostTensor>();
  for (const [k, t] of raw) {
    if (prefixed && !k.startsWith(prefix)) continue;
    const name = prefixed ? k.slice(prefix.length) : k;
    if (!IGNORED_BARE.has(name)) out.set(name, t);
  }
  return out;
}

/** g·v/‖v‖ with the norm over dims 0 and 1 for each kernel tap (torch weight_norm, dim=2). */
export function foldWeightNorm(g: HostTensor, v: HostTensor, file: string, gKey: string): HostTensor {
  const [O, I, K] = v.shape;
  if (v.shape.length !== 3 || sizeOf(g.shape) !== K) {
    throw new CheckpointError(`"${gKey}" has shape ${JSON.stringify(g.shape)}, expected [1, 1, ${K}] for weight_v ${JSON.stringify(v.shape)}`, file);
  }
  const w = new Float32Array(v.data.length);
  for (let k = 0; k < K; k++) {
    let ss = 0;
    for (let i = 0; i < O * I; i++) ss += v.data[i * K + k] ** 2;
    const scale = g.data[k] / Math.sqrt(ss);
    for (let i = 0; i < O * I; i++) w[i * K + k] = v.data[i * K + k] * scale;
  }
  return { shape: [O, I, K], data: w };
}

/** Changes one HF-layout tensor into the stored layout. */
export function toStoredLayout(t: HostTensor, layout: Layout): HostTensor {
  if (layout === 'linear') {
    const [O, I] = t.shape;
    const d = new Float32Array(O * I);
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) d[i * O + o] = t.data[o * I + i];
    return { shape: [I, O], data: d };
  }
  if (layout === 'conv') {
    const [O, I, K] = t.shape;
    const d = new Float32Array(O * I * K);
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let k = 0; k < K; k++) d[(k * I + i) * O + o] = t.data[(o * I + i) * K + k];
    return { shape: [K, I, O], data: d };
  }
  return t;
}

/** Raw state dict (float32) → validated WeightSet in stored layouts. `file` names the checkpoint in errors. */
export function mapCheckpoint(raw: Map<string, HostTensor>, c: ModelConfig, file: string): WeightSet {
  const base = baseModelKeys(raw, c);
  const folded = WEIGHT_NORM_NAMES.find(([g, v]) => base.has(g) || base.has(v));
  if (folded) {
    const [gKey, vKey] = folded;
    const g = base.get(gKey);
    const v = base.get(vKey);
    if (!g || !v) throw new CheckpointError(`missing key "${g ? vKey : gKey}" (weight norm needs both g and v)`, file);
    if (base.has(`${POS}.weight`)) throw new CheckpointError(`both "${POS}.weight" and its weight-norm parts are present`, file);
    base.set(`${POS}.weight`, foldWeightNorm(g, v, file, gKey));
    base.delete(gKey);
    base.delete(vKey);
  }
  const out: WeightSet = new Map();
  const expected = expectedWeights(c);
  for (const e of expected) {
    const t = base.get(e.key);
    if (!t) throw new CheckpointError(`missing key "${e.key}"`, file);
    if (t.shape.length !== e.hfShape.length || t.shape.some((d, i) => d !== e.hfShape[i])) {
      throw new CheckpointError(`key "${e.key}" has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(e.hfShape)} from config.json`, file);
    }
    out.set(e.key, toStoredLayout(t, e.layout));
  }
  const known = new Set(expected.map((e) => e.key));
  const unexpected = [...base.keys()].filter((k) => !known.has(k));
  if (unexpected.length) {
    throw new CheckpointError(`unexpected key "${unexpected[0]}"${unexpected.length > 1 ? ` (and ${unexpected.length - 1} more)` : ''}: checkpoint does not match config.json`, file);
  }
  return out;
}
