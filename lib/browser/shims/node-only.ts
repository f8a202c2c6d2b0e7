/// <reference lib="dom" />
/**
 * What the browser build gives for Node modules that only the Node-side paths use (writing stores, hub downloads,
 * CLI output): importing works, calling fails with a clear message. The engine path never calls them.
 */
const refuse = (name: string) => (): never => {
  throw new Error(`${name} is not available in the browser build of wavprobe`);
};

export const createHash = refuse('crypto.createHash');
export const randomBytes = refuse('crypto.randomBytes');
export const setFlagsFromString = (): void => undefined; // v8 flags: the browser's V8 has what it ships with
export const cpus = () => Array.from({ length: navigator.hardwareConcurrency || 1 }, () => ({ model: 'browser', speed: 0 }));
export const tmpdir = () => '/tmp';
export const homedir = () => '/';
export const totalmem = () => 0;
export const freemem = () => 0;
export const platform = () => 'browser';
export const EOL = '\n';
export const gunzipSync = refuse('zlib.gunzipSync');
export const inflateRawSync = refuse('zlib.inflateRawSync');
export const spawnSync = refuse('child_process.spawnSync');
export default { createHash, randomBytes, setFlagsFromString, cpus, tmpdir, homedir, totalmem, freemem, platform, EOL };
