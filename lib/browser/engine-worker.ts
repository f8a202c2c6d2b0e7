/// <reference lib="dom" />
/**
 * The engine in a dedicated Web Worker: the library as in Node (backend, kernels, models, detector), over an
 * in-memory file system the worker fills from URLs or the user's files. A worker because the kernel pool blocks in
 * Atomics.wait, which a page's main thread may not do, and so the page stays responsive. One backend per worker:
 * threads are fixed when it initialises.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useBackend, wasmThreadsCount } from '../backend';
import { Detector, createDetector } from '../detector';
import { UsageError } from '../errors';
import { kernels, kernelsInUse } from '../kernels';
import { SpeechModel, disposeOutput, inputTensors, layerSimilarity, layerStats, loadModel, namedOutputs } from '../models';
import { loadModelInput } from '../cli/input';
import { fetchBytes, fetchStore, releaseShards, sha256 } from './fetch-store';
import type { DetectRequest, EngineInfo, ForwardRequest, InspectRequest, InspectResult, LocalFile, Reply, Request, Source } from './protocol';
import { existsSync, putFile, removeFiles } from './shims/fs';
import { prestartWorkers } from './shims/worker_threads';
import { CheckpointError } from '../errors';
import { STORE_INFO, checkStoreFileHash, checkStoreFileSize, readStoreInfo } from '../weights/store';

const post = (reply: Reply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(reply, transfer);

let info: EngineInfo | undefined;

async function init(threads: number, base: string, strassen: boolean): Promise<EngineInfo> {
  if (info) return info;
  setWasmPaths(base);
  const isolated = self.crossOriginIsolated === true;
  let note: string | undefined;
  if (threads > 1 && !isolated) {
    note = 'the page is not cross-origin isolated (serve it with `wavprobe serve`): one thread';
    threads = 1;
  }
  // One thread: tfjs's plain SIMD build, as in Node; more: its threaded build, which tfjs loads natively here.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
  if (threads > 1) {
    setThreadsCount(threads);
    await prestartWorkers(threads - 1);
  }
  const backend = await useBackend('wasm', { threads });
  const k = kernels();
  info = {
    backend,
    threads: k?.threads ?? 1,
    tfjsThreads: await wasmThreadsCount(),
    kernels: kernelsInUse(),
    crossOriginIsolated: isolated,
    strassen,
    ...(note && { note }),
  };
  if (threads > 1 && info.threads < threads) info.note = `the kernel pool did not start: ${info.threads} thread(s)`;
  return info;
}

let localCount = 0;

/**
 * Local files (a store's folder, or one head or audio file) into the file system; a store's files are checked
 * against its wavprobe.json (sizes and sha256) as a fetched one is. Returns the folder, or the single file.
 */
async function putLocal(files: LocalFile[]): Promise<string> {
  const dir = `/local/${++localCount}`;
  // A picked folder's names start with the folder's own name: keep only the part inside it.
  const strip = (n: string) => (files.length > 1 || n.includes('/') ? n.split('/').slice(-1)[0] : n);
  for (const f of files) putFile(`${dir}/${strip(f.name)}`, new Uint8Array(f.bytes));
  if (files.length === 1 && !files[0].name.endsWith(STORE_INFO)) return `${dir}/${strip(files[0].name)}`;
  if (!existsSync(`${dir}/${STORE_INFO}`))
    throw new CheckpointError(`no ${STORE_INFO}: pick the folder of a converted store`, files[0]?.name ?? 'folder');
  const storeInfo = readStoreInfo(dir);
  for (const [name, want] of Object.entries(storeInfo.files)) {
    const f = files.find((x) => strip(x.name) === name);
    if (!f) throw new CheckpointError('missing from the weight store', name);
    checkStoreFileSize(name, want, f.bytes.byteLength);
    checkStoreFileHash(name, want, await sha256(new Uint8Array(f.bytes)));
  }
  return dir;
}

const sourceKey = (s: Source): string => (typeof s === 'string' ? s : `local:${s.map((f) => `${f.name}:${f.bytes.byteLength}`).join('|')}`);

/** A model source's folder in the file system (fetched or put there now if its shards are not). */
async function storeOf(model: Source, id: number): Promise<string> {
  if (typeof model !== 'string') return putLocal(model);
  return fetchStore(new URL(model, self.location.href).href, (progress) => post({ id, progress }));
}

/** Loaded models by source, with the folder they were loaded from. */
const models = new Map<string, { model: SpeechModel; dir: string }>();
/**
 * Detectors by model, head and timeline. They borrow the source's one loaded model (a head is a few thousand
 * numbers), so many can be kept: a probe's heads/ folder is one per layer.
 */
const detectors = new Map<string, Detector>();
const MAX_DETECTORS = 64;
let currentModel: string | undefined;

/** A request for another model frees the previous one's models and detectors (a page works with one model at a time). */
function useModel(key: string): void {
  if (key === currentModel) return;
  for (const d of detectors.values()) d.dispose();
  for (const m of models.values()) m.model.dispose();
  models.clear();
  detectors.clear();
  currentModel = key;
}

async function modelOf(source: Source, id: number): Promise<{ model: SpeechModel; dir: string }> {
  const key = sourceKey(source);
  useModel(key);
  let m = models.get(key);
  if (!m) {
    const dir = await storeOf(source, id);
    m = { model: loadModel(dir, { strassen: info!.strassen }), dir };
    releaseShards(dir); // the model holds the weights now
    models.set(key, m);
  }
  return m;
}

async function forward({ model, inputs, upToLayer }: ForwardRequest, id: number) {
  const { model: m } = await modelOf(model, id);
  const iv = inputs?.input_values;
  if (!iv || iv.shape?.length !== 2) throw new UsageError('inputs.input_values must be {shape: [batch, samples], data}');
  const am = inputs.attention_mask;
  const inputValues = tf.tensor2d(Float32Array.from(iv.data), iv.shape as [number, number]);
  const attentionMask = am && tf.tensor2d(Float32Array.from(am.data), am.shape as [number, number]);
  try {
    const out = m.forward(inputValues, { attentionMask, upToLayer });
    const named = namedOutputs(out);
    disposeOutput(out);
    return Object.fromEntries([...named].map(([name, t]) => [name, { shape: t.shape, data: t.data }]));
  } finally {
    tf.dispose([inputValues, attentionMask]);
  }
}

async function detect(req: DetectRequest, id: number) {
  const { model, dir } = await modelOf(req.model, id);
  const key = `${sourceKey(req.head)}\n${req.timeline ? 1 : 0}`;
  let d = detectors.get(key);
  if (d)
    detectors.delete(key); // re-inserted below: the map's order is the order of last use
  else {
    const headFile =
      typeof req.head === 'string' ? `/heads/${encodeURIComponent(new URL(req.head, self.location.href).href)}` : await putLocal(req.head);
    if (typeof req.head === 'string') putFile(headFile, await fetchBytes(new URL(req.head, self.location.href).href));
    if (detectors.size >= MAX_DETECTORS) {
      const [oldest, gone] = detectors.entries().next().value!;
      gone.dispose();
      detectors.delete(oldest);
    }
    d = createDetector({ model: dir, loaded: model, head: headFile, timeline: req.timeline });
  }
  detectors.set(key, d);
  const name = req.name ?? 'audio';
  const audioDir = `/audio/${++localCount}`;
  const file = `${audioDir}/${name.replace(/\//g, '_')}`;
  putFile(file, new Uint8Array(req.audio));
  try {
    return { ...(await d.detectFile(file)), file: name };
  } finally {
    removeFiles(audioDir);
  }
}

/** What `inspect --json --input` gives for the clip (the same library calls), and the attention maps. */
async function inspect(req: InspectRequest, id: number): Promise<InspectResult> {
  const { model: m } = await modelOf(req.model, id);
  const dir = `/audio/${++localCount}`;
  const file = `${dir}/${(req.name ?? 'audio').replace(/\//g, '_')}`;
  putFile(file, new Uint8Array(req.audio));
  try {
    const { inputValues, attentionMask } = inputTensors(await loadModelInput(file, m));
    const out = m.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true, attentionMaps: true } });
    try {
      const maps = out.attentionMaps ?? [];
      return {
        layers: layerStats(out),
        layer_similarity: layerSimilarity(out),
        T: out.convFeatures.shape[1],
        heads: m.config.numAttentionHeads,
        attention: maps.map((a) => tf.tidy(() => tf.slice(a, [0, 0, 0, 0], [1, -1, -1, -1]).dataSync() as Float32Array).slice()),
      };
    } finally {
      tf.dispose([inputValues, attentionMask]);
      disposeOutput(out);
    }
  } finally {
    removeFiles(dir);
  }
}

/** Float32Array buffers of a result, to transfer rather than copy. */
function buffersOf(result: unknown): Transferable[] {
  if (!result || typeof result !== 'object') return [];
  const { attention } = result as { attention?: unknown };
  const arrays = Array.isArray(attention) ? attention : Object.values(result as Record<string, { data?: unknown }>).map((t) => t?.data);
  return arrays.filter((d): d is Float32Array => d instanceof Float32Array).map((d) => d.buffer);
}

let queue: Promise<unknown> = Promise.resolve();

self.onmessage = (e: MessageEvent<Request>) => {
  const req = e.data;
  // One request at a time: the engine is one tfjs backend.
  queue = queue.then(async () => {
    try {
      let result: unknown;
      if (req.op === 'init') result = await init(req.threads, req.base, req.strassen);
      else if (!info) throw new UsageError('the engine is not initialised');
      else if (req.op === 'forward') result = await forward(req.args, req.id);
      else if (req.op === 'detect') result = await detect(req.args, req.id);
      else if (req.op === 'inspect') result = await inspect(req.args, req.id);
      else throw new UsageError(`unknown request ${JSON.stringify((req as { op: unknown }).op)}`);
      post({ id: req.id, ok: true, result }, buffersOf(result));
    } catch (err) {
      const error = err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
      post({ id: req.id, ok: false, error });
    }
  });
};
