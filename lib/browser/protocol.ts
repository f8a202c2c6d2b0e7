/// <reference lib="dom" />
/** Messages between the page (api.ts) and the engine worker (engine-worker.ts). */
export interface TensorJson {
  shape: number[];
  data: Float32Array;
}

export interface EngineInfo {
  backend: string;
  /** Threads the kernels run on (1 + kernel pool workers). */
  threads: number;
  /** Threads of tfjs-wasm's own pool (its threaded build when > 1). */
  tfjsThreads: number;
  crossOriginIsolated: boolean;
  /** Which kernels the dense layers and convolutions use (wavprobe-relaxed, wavprobe-plain or tfjs). */
  kernels: string;
  /** Why fewer threads than asked for, if so. */
  note?: string;
  /** Whether loaded models' dense weights take Strassen's layout (fixed when the engine starts, like threads). */
  strassen: boolean;
}

/** A file the user picked (a store's folder, a head, audio): its name (relative path for a folder) and bytes. */
export interface LocalFile {
  name: string;
  bytes: ArrayBuffer;
}

/** A model or head: a URL, or local files. */
export type Source = string | LocalFile[];

export interface ForwardRequest {
  model: Source;
  /** Stop after encoder layer k (as `wavprobe forward --layers ..k`); default all. */
  upToLayer?: number;
  inputs: { input_values: { shape: number[]; data: ArrayLike<number> }; attention_mask?: { shape: number[]; data: ArrayLike<number> } };
}

export interface DetectRequest {
  model: Source;
  head: Source;
  audio: ArrayBuffer;
  /** The name shown as `file` (default "audio"). */
  name?: string;
  timeline?: boolean;
}

/** A request without its id (the page's Engine numbers them). */
/** `wavprobe inspect --json --input` for one clip, with the attention maps its --plots draws. */
export interface InspectRequest {
  model: Source;
  audio: ArrayBuffer;
  name?: string;
}

export interface InspectResult {
  /** As `inspect --json`: per hidden state mean, std, frame norm and each head's attention entropy. */
  layers: { layer: number; mean: number; std: number; frameNorm: number; attentionEntropy?: number[] }[];
  /** Linear CKA between every pair of hidden states, [L + 1][L + 1], as `inspect --json`'s layer_similarity. */
  layer_similarity: number[][];
  /** Frames. */
  T: number;
  heads: number;
  /** attention[l − 1]: layer l's maps [heads, T, T] (query rows, key columns), first batch row. */
  attention: Float32Array[];
}

export type Call =
  | { op: 'init'; threads: number; base: string; strassen: boolean }
  | { op: 'forward'; args: ForwardRequest }
  | { op: 'detect'; args: DetectRequest }
  | { op: 'inspect'; args: InspectRequest };

export type Request = Call & { id: number };

export interface ErrorJson {
  name: string;
  message: string;
}

export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ErrorJson }
  | { id: number; progress: { loaded: number; total: number; file: string } };
