/**
 * Typed errors. Each carries the file it is about (when there is one) and a plain reason, so the CLI can
 * print one line (`<file>: <reason>`) and exit non-zero without a stack trace.
 */
export class WavprobeError extends Error {
  constructor(
    readonly reason: string,
    readonly file?: string,
  ) {
    super(file ? `${file}: ${reason}` : reason);
    this.name = new.target.name;
  }
}

/** Audio that cannot be decoded or used (empty, truncated, unsupported codec, NaN samples, too short). */
export class AudioDecodeError extends WavprobeError {}
/** A checkpoint or converted weight store that is malformed, incomplete or of the wrong shape. */
export class CheckpointError extends WavprobeError {}
/** A config.json / preprocessor_config.json that is unsupported or invalid. */
export class ConfigError extends WavprobeError {}
/** A failed hub download. */
export class DownloadError extends WavprobeError {}
/** A feature store, head file or score file that is malformed or inconsistent. */
export class DataError extends WavprobeError {}
/** Bad arguments or an impossible request (e.g. a backend that is not installed). */
export class UsageError extends WavprobeError {}
/** The backend ran out of memory (the wasm backend's heap is 4 GB at most). */
export class OutOfMemoryError extends WavprobeError {}
