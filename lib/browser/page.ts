/// <reference lib="dom" />
/**
 * The app's page: pick a model and a head (from `wavprobe serve --models` or local files), drop, pick or record
 * audio, and see the waveform, the calibrated P(spoof), the decision and its reliability, each frame's contribution
 * to the logit (hover a frame), and, for a probe's heads/ folder, every layer's score. Every failure is shown in
 * the page; nothing is thrown past a handler, and nothing leaves the machine.
 */
import { InspectResult, defaultThreads, detect, info, inspect, listModels } from './api';
import type { LocalFile, Source } from './protocol';

import type { Detection } from '../detector';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const LOCAL = '__local__';
const LAYERS = 'layers:';

let localModel: LocalFile[] | undefined;
let localHead: LocalFile[] | undefined;
/** The heads of a probe's heads/ folder, by the select's value. */
const layerSets = new Map<string, string[]>();

function showError(message: string | undefined): void {
  const box = $('error');
  box.hidden = !message;
  box.textContent = message ?? '';
}

/** Runs a handler; whatever it throws is shown in the page. */
function guard(f: () => Promise<void>): () => void {
  return () => {
    f().catch((e: unknown) => {
      showError(e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e));
      $('progress-row').hidden = true;
    });
  };
}

function option(select: HTMLSelectElement, value: string, label: string): void {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  select.append(o);
}

async function fillPickers(): Promise<void> {
  const { stores, heads } = await listModels();
  const model = $<HTMLSelectElement>('model');
  const head = $<HTMLSelectElement>('head');
  for (const s of stores) option(model, `models/${s}`, decodeURIComponent(s));
  option(model, LOCAL, 'a store folder on this computer…');
  const byDir = new Map<string, string[]>();
  for (const h of heads) {
    const dir = h.includes('/') ? h.slice(0, h.lastIndexOf('/')) : '';
    if (/(^|\/)layer_\d+\.json$/.test(h)) byDir.set(dir, [...(byDir.get(dir) ?? []), h]);
  }
  for (const [dir, files] of byDir) {
    if (files.length < 2) continue;
    layerSets.set(LAYERS + dir, files);
    option(head, LAYERS + dir, `every layer in ${decodeURIComponent(dir)}/ (${files.length} heads)`);
  }
  for (const h of heads) option(head, `models/${h}`, decodeURIComponent(h));
  option(head, LOCAL, 'a head file on this computer…');
}

const readFiles = async (files: FileList): Promise<LocalFile[]> =>
  Promise.all(Array.from(files).map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: await f.arrayBuffer() })));

function currentModel(): Source {
  const v = $<HTMLSelectElement>('model').value;
  if (v === LOCAL) {
    if (!localModel) throw new Error('pick a store folder first');
    return localModel;
  }
  if (!v) throw new Error('no model: start `wavprobe serve --models DIR` with a converted store in DIR, or pick a store folder');
  return v;
}

/** The head(s) to score with: one, or every layer of a probe's heads/ folder. */
function currentHeads(): { label: string; head: Source }[] {
  const v = $<HTMLSelectElement>('head').value;
  if (v === LOCAL) {
    if (!localHead) throw new Error('pick a head file first');
    return [{ label: localHead[0].name, head: localHead }];
  }
  const set = layerSets.get(v);
  if (set) return set.map((h) => ({ label: `layer ${Number(/layer_(\d+)/.exec(h)![1])}`, head: `models/${h}` }));
  if (!v) throw new Error('no head: start `wavprobe serve --models DIR` with a head file in DIR, or pick one');
  return [{ label: v, head: v }];
}

function progress(p: { loaded: number; total: number; file: string }): void {
  $('progress-row').hidden = p.loaded >= p.total;
  $<HTMLProgressElement>('progress').value = p.total ? p.loaded / p.total : 0;
  $('progress-text').textContent = `${(p.loaded / 2 ** 20).toFixed(1)} of ${(p.total / 2 ** 20).toFixed(1)} MB (${p.file})`;
}

/** Mono samples for the waveform (the page's own decoder; the engine decodes for the model). */
async function waveform(bytes: ArrayBuffer): Promise<{ samples: Float32Array; rate: number } | undefined> {
  try {
    const ctx = new OfflineAudioContext(1, 1, 16000);
    const b = await ctx.decodeAudioData(bytes.slice(0));
    const samples = new Float32Array(b.length);
    for (let c = 0; c < b.numberOfChannels; c++) b.getChannelData(c).forEach((v, i) => (samples[i] += v / b.numberOfChannels));
    return { samples, rate: b.sampleRate };
  } catch {
    return undefined; // the engine says what is wrong with the file
  }
}

/** The clip last analysed, for "look inside". */
let lastClip: { name: string; bytes: ArrayBuffer; model: Source } | undefined;

async function analyse(name: string, bytes: ArrayBuffer): Promise<void> {
  showError(undefined);
  $('inside').hidden = true;
  const model = currentModel();
  const heads = currentHeads();
  $('status').textContent = `analysing ${name}…`;
  try {
    const wave = await waveform(bytes);
    const results: Scored[] = [];
    for (const h of heads) {
      const r = await detect({
        model,
        head: h.head,
        audio: bytes,
        name,
        timeline: heads.length === 1,
        onProgress: progress,
      });
      if (!r.ok) throw new Error(`${name}: ${r.error}`);
      results.push({ label: h.label, head: h.head, r });
    }
    lastClip = { name, bytes, model };
    render(results, wave, model, bytes);
    if (results.length > 1) await focus(results[results.length - 1], model, bytes, wave);
  } finally {
    $('status').textContent = '';
  }
}

interface Scored {
  label: string;
  head: Source;
  r: Detection;
}

type Wave = { samples: Float32Array; rate: number } | undefined;

/** One layer of a per-layer result in the main view, with its timeline (clicking a layer's bar calls this). */
async function focus(s: Scored, model: Source, bytes: ArrayBuffer, wave: Wave): Promise<void> {
  const r = await detect({ model, head: s.head, audio: bytes, name: s.r.file, timeline: true });
  if (!r.ok) throw new Error(`${s.r.file}: ${r.error}`);
  renderMain(r, wave, s.label);
  for (const row of Array.from($('layer-bars').children)) row.classList.toggle('focus', row.firstChild?.textContent === s.label);
}

function render(results: Scored[], wave: Wave, model?: Source, bytes?: ArrayBuffer): void {
  renderMain(results[results.length - 1].r, wave, results.length > 1 ? results[results.length - 1].label : undefined);
  $('layers').hidden = results.length < 2;
  $('layer-bars').replaceChildren(
    ...results.map((s) => {
      const { label, r: x } = s;
      const row = document.createElement('div');
      row.className = 'bar';
      row.title = `show ${label}'s frame timeline`;
      const bar = document.createElement('div');
      bar.style.width = `${(100 * x.p_spoof).toFixed(1)}%`;
      bar.style.background = x.decision === 'spoof' ? 'var(--spoof)' : 'var(--bona)';
      const track = document.createElement('span');
      track.append(bar);
      const name = document.createElement('span');
      name.textContent = label;
      row.append(name, track, x.p_spoof.toFixed(3));
      if (model && bytes) row.onclick = guard(() => focus(s, model, bytes, wave));
      return row;
    }),
  );
}

function renderMain(r: Detection, wave: Wave, label: string | undefined): void {
  $('result').hidden = false;
  $('decision').textContent = r.decision;
  $('decision').className = `decision ${r.decision}`;
  $('p-spoof').textContent = r.p_spoof.toFixed(3);
  const rows: [string, string][] = [
    ['file', r.file],
    ['reliability', `${r.reliability.toFixed(3)} (0: a coin flip, 1: certain)`],
    ['head logit', r.logit.toFixed(4)],
    ['LLR (bona fide : spoof)', r.llr.toFixed(3)],
    ['spoof prior', `${+r.prior_spoof.toFixed(4)} (the head's calibration data)`],
    ['duration', `${r.duration_s.toFixed(2)} s in ${r.windows} window${r.windows > 1 ? 's' : ''}`],
  ];
  if (label) rows.unshift(['scored by', label]);
  $('details').replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = k;
      dd.textContent = v;
      return [dt, dd];
    }),
  );
  draw(wave, r);
}

/** Waveform on top; below it c_t per frame with the decision threshold (dashed) and the spoof side shaded. */
function draw(wave: Wave, r: Detection): void {
  const canvas = $<HTMLCanvasElement>('wave');
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth;
  const H = 270;
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  const g = canvas.getContext('2d')!;
  g.scale(dpr, dpr);
  g.clearRect(0, 0, W, H);
  const [left, right, waveTop, waveH, tlTop, tlH] = [46, 8, 8, 90, 120, 110];
  const plotW = W - left - right;
  const x = (s: number) => left + (s / r.duration_s) * plotW;
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#5b6677';
  g.fillText('audio', 4, waveTop + waveH / 2 + 4);
  g.fillText('c_t', 4, tlTop + tlH / 2 + 4);
  g.strokeStyle = '#2f6fd6';
  if (wave) {
    const per = wave.samples.length / plotW;
    const peak = wave.samples.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-9); // scaled to its peak, to be seen
    g.beginPath();
    for (let px = 0; px < plotW; px++) {
      let [lo, hi] = [0, 0];
      for (let i = Math.floor(px * per); i < Math.min(wave.samples.length, (px + 1) * per); i++)
        [lo, hi] = [Math.min(lo, wave.samples[i]), Math.max(hi, wave.samples[i])];
      g.moveTo(left + px + 0.5, waveTop + waveH / 2 - (hi / peak) * (waveH / 2));
      g.lineTo(left + px + 0.5, waveTop + waveH / 2 - (lo / peak) * (waveH / 2) + 1);
    }
    g.stroke();
  }
  const frames = r.timeline ?? [];
  canvas.onmousemove = null;
  if (!frames.length) return;
  const values = frames.map((f) => f.logit);
  const th = r.threshold_logit ?? null;
  let [lo, hi] = [Math.min(...values, th ?? Infinity), Math.max(...values, th ?? -Infinity)];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const y = (v: number) => tlTop + tlH - ((v - lo) / (hi - lo)) * tlH;
  g.strokeStyle = '#d8dee8';
  g.strokeRect(left, tlTop, plotW, tlH);
  g.fillStyle = '#5b6677';
  g.fillText(hi.toFixed(1), left - 40, tlTop + 9);
  g.fillText(lo.toFixed(1), left - 40, tlTop + tlH);
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const t = (i / ticks) * r.duration_s;
    g.fillText(`${t.toFixed(2)} s`, Math.min(x(t) - 12, W - 40), tlTop + tlH + 14);
  }
  frames.forEach((f, i) => {
    // Frames span 25 ms every 20 ms: each is drawn up to the next one's start, so none hides another.
    const next = frames[i + 1];
    const end = next && next.window === f.window ? Math.min(f.end_s, next.start_s) : f.end_s;
    const spoofSide = th !== null && (r.spoof_above ? f.logit >= th : f.logit < th);
    g.fillStyle = spoofSide ? 'rgba(192,57,43,0.75)' : 'rgba(30,132,73,0.6)';
    const [x0, x1] = [x(f.start_s), Math.max(x(f.start_s) + 1, x(end) - 1)];
    const base = y(th ?? lo);
    g.fillRect(x0, Math.min(base, y(f.logit)), x1 - x0, Math.abs(y(f.logit) - base));
  });
  if (th !== null) {
    g.setLineDash([5, 4]);
    g.strokeStyle = '#1c2430';
    g.beginPath();
    g.moveTo(left, y(th));
    g.lineTo(left + plotW, y(th));
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = '#1c2430';
    g.fillText(`threshold ${th.toFixed(2)}`, left + 4, y(th) - 4);
  }
  canvas.onmousemove = (e) => {
    const t = ((e.offsetX - left) / plotW) * r.duration_s;
    const f = frames.find((fr) => t >= fr.start_s && t < fr.end_s) ?? null;
    $('hover').textContent = f
      ? `frame ${f.start_s.toFixed(3)}–${f.end_s.toFixed(3)} s (window ${f.window}): c_t = ${f.logit.toFixed(3)} — pulls the mean towards ${th !== null && (r.spoof_above ? f.logit >= th : f.logit < th) ? 'spoof' : 'bona fide'}; the file's logit is their mean, ${r.logit.toFixed(3)}`
      : 'Hover a frame of the timeline.';
  };
}

/** A value in [0, 1] as a colour from white to the accent blue. */
const shade = (v: number): string => {
  const t = Math.max(0, Math.min(1, v));
  return `rgb(${Math.round(255 - 208 * t)},${Math.round(255 - 144 * t)},${Math.round(255 - 41 * t)})`;
};

/** An n × n matrix (row-major) on a canvas, one cell per entry; `scale` maps a value to [0, 1]. */
function heatmap(canvas: HTMLCanvasElement, n: number, at: (i: number, j: number) => number, scale: (v: number) => number): void {
  canvas.width = n;
  canvas.height = n;
  const g = canvas.getContext('2d')!;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      g.fillStyle = shade(scale(at(i, j)));
      g.fillRect(j, i, 1, 1);
    }
}

let inside: InspectResult | undefined;

/** Layer l's map (head-averaged, or one head) [T × T]. */
function attentionMap(l: number, head: number): Float32Array {
  const { T, heads, attention } = inside!;
  const maps = attention[l - 1];
  if (head >= 0) return maps.subarray(head * T * T, (head + 1) * T * T);
  const avg = new Float32Array(T * T);
  for (let h = 0; h < heads; h++) for (let i = 0; i < T * T; i++) avg[i] += maps[h * T * T + i] / heads;
  return avg;
}

function drawAttention(): void {
  const l = Number($<HTMLSelectElement>('att-layer').value);
  const head = Number($<HTMLSelectElement>('att-head').value);
  const m = attentionMap(l, head);
  const T = inside!.T;
  const peak = m.reduce((a, v) => Math.max(a, v), 1e-12);
  heatmap(
    $('attention'),
    T,
    (i, j) => m[i * T + j],
    (v) => v / peak,
  );
  const entropy = inside!.layers[l].attentionEntropy;
  $('att-info').textContent =
    `Layer ${l}, ${head < 0 ? 'heads averaged' : `head ${head}`}: query frames down, key frames across (${T} frames, darkest = ${peak.toFixed(3)})${
      entropy ? `; mean attention entropy ${(head < 0 ? entropy.reduce((a, b) => a + b, 0) / entropy.length : entropy[head]).toFixed(2)} nats` : ''
    }.`;
}

async function lookInside(): Promise<void> {
  if (!lastClip) throw new Error('analyse a clip first');
  $('status').textContent = `looking inside the model for ${lastClip.name}…`;
  try {
    inside = await inspect({ model: lastClip.model, audio: lastClip.bytes, name: lastClip.name, onProgress: progress });
  } finally {
    $('status').textContent = '';
  }
  const sim = inside.layer_similarity;
  const n = sim.length;
  const cka = $<HTMLCanvasElement>('cka');
  // Coloured from the smallest similarity (white) to 1 (blue): random-weight models keep every layer alike.
  const lowest = Math.min(...sim.flat());
  heatmap(
    cka,
    n,
    (i, j) => sim[i][j],
    (v) => (v - lowest) / Math.max(1 - lowest, 1e-9),
  );
  $('cka-info').textContent =
    `Linear CKA between hidden states 0 (encoder input) … ${n - 1}, white ${lowest.toFixed(3)} to blue 1. Click a row to see that layer's attention.`;
  const cell = (e: MouseEvent) => [Math.floor((e.offsetY / cka.clientHeight) * n), Math.floor((e.offsetX / cka.clientWidth) * n)];
  cka.onmousemove = (e) => {
    const [i, j] = cell(e);
    if (sim[i]?.[j] !== undefined)
      $('cka-info').textContent =
        `CKA(hidden state ${i}, hidden state ${j}) = ${sim[i][j].toFixed(4)}. Click to see layer ${Math.max(1, i)}'s attention.`;
  };
  cka.onclick = (e) => {
    $<HTMLSelectElement>('att-layer').value = String(Math.max(1, Math.min(n - 1, cell(e)[0])));
    drawAttention();
  };
  const layerSelect = $<HTMLSelectElement>('att-layer');
  const headSelect = $<HTMLSelectElement>('att-head');
  layerSelect.replaceChildren();
  headSelect.replaceChildren();
  for (let l = 1; l < n; l++) option(layerSelect, String(l), `layer ${l}`);
  option(headSelect, '-1', 'average of the heads');
  for (let h = 0; h < inside.heads; h++) option(headSelect, String(h), `head ${h}`);
  layerSelect.value = String(n - 1);
  layerSelect.onchange = headSelect.onchange = drawAttention;
  drawAttention();
  $('inside').hidden = false;
}

/** 16-bit PCM WAV of mono samples (a recording, so the engine's decoders read it). */
function wavBytes(samples: Float32Array, rate: number): ArrayBuffer {
  const out = new DataView(new ArrayBuffer(44 + 2 * samples.length));
  const text = (at: number, s: string) => [...s].forEach((c, i) => out.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  out.setUint32(4, 36 + 2 * samples.length, true);
  text(8, 'WAVEfmt ');
  out.setUint32(16, 16, true);
  out.setUint16(20, 1, true);
  out.setUint16(22, 1, true);
  out.setUint32(24, rate, true);
  out.setUint32(28, 2 * rate, true);
  out.setUint16(32, 2, true);
  out.setUint16(34, 16, true);
  text(36, 'data');
  out.setUint32(40, 2 * samples.length, true);
  samples.forEach((v, i) => out.setInt16(44 + 2 * i, Math.round(Math.max(-1, Math.min(1, v)) * 32767), true));
  return out.buffer;
}

let recorder: MediaRecorder | undefined;

async function toggleRecording(): Promise<void> {
  const button = $('record');
  if (recorder) {
    recorder.stop();
    return;
  }
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const chunks: Blob[] = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.onstop = guard(async () => {
    stream.getTracks().forEach((t) => t.stop());
    recorder = undefined;
    button.textContent = '● record';
    button.classList.remove('on');
    const wave = await waveform(await new Blob(chunks).arrayBuffer());
    if (!wave) throw new Error('the recording could not be decoded');
    await analyse('recording.wav', wavBytes(wave.samples, wave.rate));
  });
  recorder.start();
  button.textContent = '■ stop';
  button.classList.add('on');
}

function wire(): void {
  const drop = $('drop');
  const audioInput = $<HTMLInputElement>('audio-file');
  $('pick').onclick = () => audioInput.click();
  $('inspect').onclick = guard(lookInside);
  $('record').onclick = guard(toggleRecording);
  audioInput.onchange = guard(async () => {
    const f = audioInput.files?.[0];
    audioInput.value = '';
    if (f) await analyse(f.name, await f.arrayBuffer());
  });
  drop.ondragover = (e) => {
    e.preventDefault();
    drop.classList.add('over');
  };
  drop.ondragleave = () => drop.classList.remove('over');
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) guard(async () => analyse(f.name, await f.arrayBuffer()))();
  };
  const pickLocal = (select: HTMLSelectElement, input: HTMLInputElement) => () => {
    if (select.value === LOCAL) input.click();
  };
  $<HTMLSelectElement>('model').onchange = pickLocal($('model'), $('model-folder'));
  $<HTMLSelectElement>('head').onchange = pickLocal($('head'), $('head-file'));
  $<HTMLInputElement>('model-folder').onchange = guard(async () => {
    localModel = await readFiles($<HTMLInputElement>('model-folder').files!);
    $('status').textContent = `picked a store folder of ${localModel.length} files`;
  });
  $<HTMLInputElement>('head-file').onchange = guard(async () => {
    localHead = await readFiles($<HTMLInputElement>('head-file').files!);
    $('status').textContent = `picked the head ${localHead[0]?.name}`;
  });
  window.addEventListener('unhandledrejection', (e) => {
    e.preventDefault();
    showError(String(e.reason?.message ?? e.reason));
  });
}

async function start(): Promise<void> {
  wire();
  await fillPickers();
  const threads = defaultThreads();
  const i = await info({ threads });
  const engine = $('engine');
  engine.textContent = `engine: ${i.backend}, ${i.threads} thread${i.threads > 1 ? 's' : ''}${i.crossOriginIsolated ? ', cross-origin isolated' : ''}${i.note ? ` — ${i.note}` : ''}`;
  if (!i.crossOriginIsolated) {
    engine.textContent += ' — not cross-origin isolated: one thread (serve the page with `wavprobe serve`)';
    engine.classList.add('warn');
  }
  document.body.dataset.ready = 'true';
}

guard(start)();
