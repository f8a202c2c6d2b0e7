/**
 * A pooled front-end turns one utterance (16 kHz mono float32) into one fixed-size vector per layer.
 * SSL models (one vector per transformer layer) and the LFCC baseline (a single "layer") both implement it,
 * so extraction, stores, probing and detection treat them alike.
 */
/** What a front-end produces, known without loading any weights. */
export interface FrontEndInfo {
  /** Recorded as `model` in the store's meta.json and in head files. */
  readonly id: string;
  /**
   * Identifies the model's weights and config (lib/weights modelFingerprint), so a head is never applied to
   * another model's features; null when unknown (a store converted before fingerprints were recorded).
   */
  readonly fingerprint: string | null;
  /** Layer numbers produced, ascending. */
  readonly layers: number[];
  /** Vector size of each layer, in `layers` order. */
  readonly dims: number[];
  /** Pooling rule, recorded in meta.json. */
  readonly pooling: Pooling;
  /** The shortest input it accepts, in samples at 16 kHz. */
  readonly minSamples: number;
}

/** `mean`: the mean over frames of each layer; `mean,std`: also its per-dimension standard deviation. */
export const POOLINGS = ['mean', 'mean,std'] as const;
export type Pooling = (typeof POOLINGS)[number];

/** How to open a front-end (the `--model`, `--layers` and `--pool` arguments); plain data, so it can go to a worker. */
export interface FrontEndSpec {
  model: string;
  layers?: string;
  /** Default `mean`. */
  pooling?: Pooling;
}

export interface PooledFrontEnd extends FrontEndInfo {
  /**
   * One pooled vector per layer (in `layers` order) and the number of frames each is the mean of; the frame count
   * lets windows of long audio merge into the same frame-weighted mean a whole-file pass would give.
   */
  pool(samples: Float32Array): Promise<PooledVectors>;
  /**
   * The frames one layer's pooled vector is the mean of (detect --timeline), with their timing: frame t sees
   * samples [t·hop, t·hop + span) of the input.
   */
  frames(samples: Float32Array, layer: number): Promise<FrameVectors>;
  dispose(): void;
}

export interface FrameVectors {
  /** [frames, dims] row-major */
  data: Float32Array;
  frames: number;
  dims: number;
  /** Samples between frame starts. */
  hop: number;
  /** Samples each frame sees (the conv encoder's receptive field; LFCC's analysis window). */
  span: number;
}

export interface PooledVectors {
  vectors: Float32Array[];
  /** With pooling `mean,std`: each layer's standard deviation over the same frames, in `layers` order. */
  std?: Float32Array[];
  frames: number;
}
