/**
 * wavprobe's library API: everything the CLI does, a Node program can do by import.
 *   audio → frames → layers → pooled features → probe → calibrated probability
 */
export * from './errors';
export { useBackend, BACKENDS } from './backend';
export type { BackendName } from './backend';
export * as audio from './audio';
export * as weights from './weights';
export * as models from './models';
export * as features from './features/index';
export * as data from './data';
export * as probe from './probe/index';
export * as metrics from './metrics';
export * as report from './report/index';
export * as cluster from './cluster/index';
export { loadAudio } from './audio';
export { loadModel } from './models';
export { convert } from './weights/convert';
export { readDataset } from './data';
export { extractFeatures } from './features/extract';
export { mergeStores } from './features/merge';
export { openFrontEnd, sslFrontEnd, lfccFrontEnd } from './features/frontends';
export { readStore, writeStore } from './features/store';
export { trainHead, readHead, writeHead, scoreStore } from './probe/head';
export { probeLayers } from './probe/layerwise';
export { computeMetrics } from './metrics/summary';
export { createDetector } from './detector';
export type { Detector, Detection, DetectionFailure, DetectorOptions } from './detector';
export { runDemo } from './demo';
