/**
 * HF checkpoint keys → the weight set the forward pass reads. Keys keep their HuggingFace names (prefix such as
 * `wav2vec2.` stripped, task heads ignored) so code maps to checkpoint; only layouts change, once, here:
 *   Linear  `*.weight` [out, in]        → [in, out]          (x·W without a transposed matmul)
 *   Conv1d  `*.conv.weight` [out, in/g, K] → [K, in/g, out]  (tfjs conv1d filter layout)
 *   pos conv weight norm (g, v) → `encoder.pos_conv_embed.conv.weight` = g·v/‖v‖, norm per tap k over dims 0,1.
 * Strict: a missing needed key, an unexpected key inside the model, a wrong shape or a NaN/±Inf value is an error
 * naming the key; all but the last are found from names and shapes alone, before any data is read (planCheckpoint).
 */
import { CheckpointError } from '../errors';
import { ModelConfig } from './config';
import { showJson } from './json';
import { HostTensor, WeightSet, checkFinite, sizeOf } from './tensor';

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
 * Picks the base-model names out of a raw state dict's, as `base name → checkpoint name`: bare `*Model` checkpoints
 * as they are, task or pre-training checkpoints by their `<model_type>.` prefix (everything outside it — lm_head,
 * projector, classifier, quantizer, project_q, … — is a head and ignored).
 */
export function baseModelNames(names: Iterable<string>, c: ModelConfig): Map<string, string> {
  const all = [...names];
  const prefix = `${c.modelType}.`;
  const prefixed = all.some((k) => k.startsWith(prefix));
  const out = new Map<string, string>();
  for (const k of all) {
    if (prefixed && !k.startsWith(prefix)) continue;
    const name = prefixed ? k.slice(prefix.length) : k;
    if (!IGNORED_BARE.has(name)) out.set(name, k);
  }
  return out;
}

/** Where one weight of the forward pass comes from: a checkpoint tensor, or a weight-norm pair [g, v] to fold. */
export interface WeightSource {
  layout: Layout;
  from: [string] | [string, string];
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Checks a state dict's names and shapes against config.json — a missing key, an unexpected key inside the model
 * or a wrong shape is an error naming the key — and says where each weight comes from. Needs no data, so readers
 * run it before reading any: a tensor of the wrong shape (however large it claims to be) is never materialised.
 */
export function planCheckpoint(shapes: ReadonlyMap<string, readonly number[]>, c: ModelConfig, file: string): Map<string, WeightSource> {
  const names = baseModelNames(shapes.keys(), c);
  const shapeOf = (base: string) => shapes.get(names.get(base) as string) as readonly number[];
  // First, before the expected list is built: a config for a deeper model than the checkpoint is one clear error.
  const layers = new Set<string>();
  for (const k of names.keys()) {
    const m = /^encoder\.layers\.(\d+)\./.exec(k);
    if (m) layers.add(m[1]);
  }
  if (layers.size < c.numHiddenLayers)
    throw new CheckpointError(`has ${layers.size} encoder layers, but config.json says num_hidden_layers ${c.numHiddenLayers}`, file);
  const pair = WEIGHT_NORM_NAMES.find(([g, v]) => names.has(g) || names.has(v));
  if (pair) {
    const [g, v] = pair;
    if (!names.has(g) || !names.has(v)) throw new CheckpointError(`missing key "${names.has(g) ? v : g}" (weight norm needs both g and v)`, file);
    if (names.has(`${POS}.weight`)) throw new CheckpointError(`both "${POS}.weight" and its weight-norm parts are present`, file);
    const [gs, vs] = [shapeOf(g), shapeOf(v)];
    if (vs.length !== 3 || sizeOf(gs) !== vs[2]) {
      throw new CheckpointError(`"${g}" has shape ${showJson(gs)}, expected [1, 1, ${vs[2]}] for weight_v ${showJson(vs)}`, file);
    }
  }
  const plan = new Map<string, WeightSource>();
  const used = new Set<string>();
  for (const e of expectedWeights(c)) {
    const parts: [string] | [string, string] = pair && e.key === `${POS}.weight` ? pair : [e.key];
    const main = parts[parts.length - 1]; // weight_v has the folded weight's shape
    if (!names.has(main)) throw new CheckpointError(`missing key "${e.key}"`, file);
    if (!sameShape(shapeOf(main), e.hfShape)) {
      throw new CheckpointError(`key "${main}" has shape ${showJson(shapeOf(main))}, expected ${JSON.stringify(e.hfShape)} from config.json`, file);
    }
    for (const b of parts) used.add(b);
    plan.set(e.key, { layout: e.layout, from: parts.map((b) => names.get(b)) as WeightSource['from'] });
  }
  const unexpected = [...names.keys()].filter((k) => !used.has(k));
  if (unexpected.length) {
    throw new CheckpointError(
      `unexpected key "${unexpected[0]}"${unexpected.length > 1 ? ` (and ${unexpected.length - 1} more)` : ''}: checkpoint does not match config.json`,
      file,
    );
  }
  return plan;
}

/** g·v/‖v‖ with the norm over dims 0 and 1 for each kernel tap (torch weight_norm, dim=2); shapes as planCheckpoint checked them. */
export function foldWeightNorm(g: HostTensor, v: HostTensor): HostTensor {
  const [O, I, K] = v.shape;
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

/** One planned weight from its checkpoint tensor(s), `read` by name: checked finite, weight norm folded, in stored layout. */
export function mapWeight(key: string, { layout, from }: WeightSource, read: (name: string) => HostTensor, file: string): HostTensor {
  const parts = from.map(read);
  from.forEach((name, i) => checkFinite(name, parts[i].data, file));
  const t = parts.length === 2 ? foldWeightNorm(parts[0], parts[1]) : parts[0];
  if (parts.length === 2) checkFinite(key, t.data, file); // an all-zero tap of v folds to 0/0
  return toStoredLayout(t, layout);
}

/** Raw state dict (float32) → validated WeightSet in stored layouts. `file` names the checkpoint in errors. */
export function mapCheckpoint(raw: Map<string, HostTensor>, c: ModelConfig, file: string): WeightSet {
  const plan = planCheckpoint(new Map([...raw].map(([k, t]) => [k, t.shape])), c, file);
  const out: WeightSet = new Map();
  for (const [key, source] of plan)
    out.set(
      key,
      mapWeight(key, source, (name) => raw.get(name) as HostTensor, file),
    );
  return out;
}
