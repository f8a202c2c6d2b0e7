/**
 * The weights provider: a model's weights on the tfjs backend, by HF key, in the layouts the forward pass reads.
 * lib/weights stores them with linear weights transposed to [in, out] and conv filters reordered to
 * [K, in/groups, out] (keymap.ts); here the dense layers' weights are also packed once for the kernels' GEMM (as
 * the blocks of one level of Strassen where they are resident: 1/8 fewer multiply-adds for 3/4 more memory), and
 * the positional conv's filter becomes the spectra of its taps (its convolution runs through the FFT).
 *
 * A model too large for the backend's heap (XLS-R 1B on wasm's 4 GB) streams its transformer layers: their
 * weights stay in the JS heap and withLayer() uploads one layer just before it runs and frees it right after.
 * A float16 store's weights stay halves in the JS heap (half the memory) and are widened as they go to the backend
 * (dense ones while they are packed).
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors';
import { packGroupedFilter } from '../nn/conv';
import { packHalfWeight, packWeight } from '../nn/linear';
import { widenHalves } from '../kernels';
import { HostWeight, HostWeightSet, hostFloats, sizeOf } from '../weights/tensor';

/** 1.5 GiB: XLS-R 300M (1.26 GB) stays resident, XLS-R 1B (3.9 GB) streams. */
export const STREAM_ABOVE_BYTES = 1.5 * 2 ** 30;

/** Whether resident dense weights take Strassen's layout when the caller does not say: unless WAVPROBE_STRASSEN=0. */
export const strassenByDefault = (): boolean => process.env.WAVPROBE_STRASSEN !== '0';

export interface DeviceWeightsOptions {
  /** Drop each host copy from the source once it is uploaded (or kept here), so both never coexist whole. */
  releaseHost?: boolean;
  /** Stream the transformer layers' weights. Default: on the wasm backend when the weights exceed STREAM_ABOVE_BYTES. */
  streamLayers?: boolean;
  /**
   * Lay the resident dense weights out for one level of Strassen (1/8 fewer multiply-adds, 7/4 of their memory;
   * lib/nn/linear.ts). Streamed ones never are. Default: on, unless the environment sets WAVPROBE_STRASSEN=0.
   */
  strassen?: boolean;
}

/** One transformer layer's weights by their name inside the layer, e.g. `attention.q_proj.weight`. */
export type LayerWeights = (name: string) => tf.Tensor;

/** The dense layers' weights, which linear() reads: packed for the kernels' GEMM (lib/nn/linear.ts). */
const isDenseWeight = (key: string) => /(feature_projection\.projection|_proj|intermediate_dense|output_dense)\.weight$/.test(key);

/** The positional conv's filter, which groupedConv1d reads through the FFT on the kernels (lib/nn/conv.ts). */
const POS_CONV_FILTER = 'encoder.pos_conv_embed.conv.weight';

/** Transformer layer weights: everything under encoder.layers.N. except WavLM's position embedding, which all layers share. */
const isLayerWeight = (key: string) => /^encoder\.layers\.\d+\./.test(key) && !key.endsWith('rel_attn_embed.weight');

const layerPrefix = (l: number) => `encoder.layers.${l}.`;

/**
 * A host weight as a float32 tensor on the backend: every upload goes through here (a packing step belongs after
 * it). Halves are widened exactly; on the kernels on the backend's heap (their 2-byte values are what is copied
 * there), so no float32 copy is made in the JS heap.
 */
function upload(t: HostWeight): tf.Tensor {
  if (!('half' in t)) return tf.tensor(t.data, t.shape, 'float32');
  return widenHalves(t.half, t.shape) ?? tf.tensor(hostFloats(t), t.shape, 'float32');
}

/**
 * A weight on the backend as the forward reads it: a dense layer's packed for the GEMM (as Strassen's blocks when
 * `strassen`, else in panels, from halves in one pass).
 */
function uploadWeight(key: string, t: HostWeight, strassen: boolean): tf.Tensor {
  if (key === POS_CONV_FILTER) return packGroupedFilter(upload(t));
  if (!isDenseWeight(key)) return upload(t);
  return ('half' in t && packHalfWeight(t.half, t.shape, { strassen })) || packWeight(upload(t), { strassen });
}

export class DeviceWeights {
  /** Whether the transformer layers' weights stay in the JS heap and are uploaded per layer per forward. */
  readonly streamsLayers: boolean;
  private readonly tensors = new Map<string, tf.Tensor>();
  /** The streamed weights' host copies. */
  private readonly host = new Map<string, HostWeight>();

  constructor(source: HostWeightSet, opts: DeviceWeightsOptions = {}) {
    let bytes = 0;
    for (const t of source.values()) bytes += 4 * sizeOf(t.shape);
    this.streamsLayers = opts.streamLayers ?? (tf.getBackend() === 'wasm' && bytes > STREAM_ABOVE_BYTES);
    const strassen = opts.strassen ?? strassenByDefault();
    for (const [key, t] of source) {
      if (this.streamsLayers && isLayerWeight(key)) this.host.set(key, t);
      else this.tensors.set(key, uploadWeight(key, t, strassen));
      if (opts.releaseHost) source.delete(key);
    }
  }

  /** A weight by its HF key; a streamed one only while its layer runs. */
  get(key: string): tf.Tensor {
    const t = this.tensors.get(key);
    if (t) return t;
    if (this.host.has(key)) throw new CheckpointError(`weight "${key}" is streamed and not loaded`);
    throw new CheckpointError(`missing weight "${key}"`);
  }

  /**
   * Runs fn with transformer layer l's weights on the backend. Streamed ones are uploaded (dense ones packed, as at
   * load: the GEMM would otherwise pack them itself) for fn only.
   */
  withLayer<T>(l: number, fn: (w: LayerWeights) => T): T {
    const prefix = layerPrefix(l);
    const w: LayerWeights = (name) => this.get(prefix + name);
    if (!this.streamsLayers) return fn(w);
    // Kept out of the caller's tidy: freed here, after fn.
    for (const [key, t] of this.host) if (key.startsWith(prefix)) this.tensors.set(key, tf.keep(uploadWeight(key, t, false)));
    try {
      return fn(w);
    } finally {
      for (const key of this.host.keys()) {
        if (!key.startsWith(prefix)) continue;
        this.tensors.get(key)!.dispose();
        this.tensors.delete(key);
      }
    }
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
    this.host.clear();
  }
}
