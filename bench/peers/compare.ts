/**
 * wavprobe vs its peers on one machine, interleaved: rounds in which every peer runs in a fresh process with --runs 1
 * after its own warm-up (the order rotates each round), so all see the same machine state. Peers:
 * - torch: PyTorch (torch_forward.py) at its fastest split of torch threads × OpenBLAS threads (product ≤ --threads),
 *   chosen first on --split-rounds interleaved rounds of every split, each a fresh process (OpenBLAS reads its thread
 *   count when it loads);
 * - ort-node, ort-web: onnxruntime-node (native) and onnxruntime-web (wasm SIMD, in Node) on the same architecture
 *   exported to ONNX by export_onnx.py, kept in $WAVPROBE_CACHE/peers (exported once per arch, length and layers);
 * - wavprobe-panels (only when asked for): wavprobe with --no-strassen.
 * Prints each round and the medians with each peer's configuration, and wavprobe's time over each peer's.
 * On demand, never in CI. Needs Debian's python3-torch, python3-torchaudio and libopenblas0-pthread (PYTHON names the
 * interpreter; default /usr/bin/python3) and `npm --prefix bench/peers ci` for the onnxruntime packages.
 *
 *   npx tsx bench/peers/compare.ts --arch wav2vec2-base --seconds 10 --threads 2 --rounds 5 [--layers 7] [--json]
 *     [--peers torch,ort-node,ort-web[,wavprobe-panels]] [--torch-split 1x2]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { median } from '../../lib/bench/machine';
import { cacheDir } from '../../lib/weights/cache';
import { arg } from '../args';

export type Json = { median_s: number } & Record<string, unknown>;

/** Runs a command and parses the last line of its stdout that is a JSON object. */
export function lastJson(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Json {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 2 ** 20, env: env && { ...process.env, ...env } });
  const line = r.stdout
    ?.split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${(r.stderr ?? '').slice(-2000)}`);
  return JSON.parse(line);
}

export const ratio = (a: number, b: number): number => +(a / b).toFixed(2);

/** wavprobe's time over a peer's in each round: the median, the range, and in how many rounds wavprobe was faster. */
function paired(ours: number[], theirs: number[]): { median: number; min: number; max: number; faster: number } {
  const r = ours.map((t, i) => t / theirs[i]);
  const fixed = (x: number) => +x.toFixed(3);
  return { median: fixed(median(r)), min: fixed(Math.min(...r)), max: fixed(Math.max(...r)), faster: r.filter((x) => x < 1).length };
}

const root = path.join(__dirname, '..', '..');
const python = process.env.PYTHON ?? '/usr/bin/python3';

/** The ONNX export of arch at this length (and cut), made once with export_onnx.py and kept in the cache. */
export function onnxFile(arch: string, seconds: string, layers: string): string {
  const file = path.join(cacheDir(), 'peers', `${arch}-${seconds}s-layers-${layers || 'all'}-opset17.onnx`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    console.error(`exporting ${path.basename(file)} with ${python} (once) ...`);
    const args = [
      path.join(__dirname, 'export_onnx.py'),
      '--arch',
      arch,
      '--seconds',
      seconds,
      '--out',
      file,
      ...(layers ? ['--layers', layers] : []),
    ];
    const r = spawnSync(python, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`${python} ${args.join(' ')} failed (${r.status ?? r.error?.message})`);
  }
  return file;
}

/** The onnxruntime packages live in bench/peers (not the project's dependencies): installed on demand. */
export function requireOrt(): void {
  for (const p of ['onnxruntime-node', 'onnxruntime-web'])
    if (!fs.existsSync(path.join(__dirname, 'node_modules', p, 'package.json')))
      throw new Error(`${p} is not installed: run npm --prefix bench/peers ci`);
}

interface Split {
  torch: number;
  blas: number;
}
const splitName = (s: Split): string => `${s.torch}x${s.blas}`;
/** PyTorch with `torch` intra-op threads and OpenBLAS on `blas` threads: the env must be set before the process starts. */
function torchRun(common: string[], s: Split): Json {
  const args = [path.join(__dirname, 'torch_forward.py'), ...common, '--threads', String(s.torch)];
  return lastJson(python, args, { OPENBLAS_NUM_THREADS: String(s.blas), OMP_NUM_THREADS: String(s.torch) });
}

function main(): void {
  const [arch, seconds, threads, rounds, layers, json] = [
    arg('arch', 'wav2vec2-base'),
    arg('seconds', '10'),
    Number(arg('threads', '2')),
    Number(arg('rounds', '5')),
    arg('layers', ''),
    process.argv.includes('--json'),
  ];
  const peers = arg('peers', 'torch,ort-node,ort-web').split(',');
  const log = (human: string, obj: object): void => console.log(json ? JSON.stringify(obj) : human);
  const common = ['--arch', arch, '--seconds', seconds, '--runs', '1', ...(layers ? ['--layers', layers] : [])];
  const onnx = peers.some((p) => p.startsWith('ort-')) ? (requireOrt(), onnxFile(arch, seconds, layers)) : '';
  const load = [os.loadavg()[0]];

  // PyTorch's split: the fastest median over interleaved rounds of every split with torch × blas ≤ threads.
  let split: Split | undefined;
  const splitTimes: Record<string, number[]> = {};
  if (peers.includes('torch')) {
    const fixed = arg('torch-split', '');
    const splits: Split[] = [];
    if (fixed) splits.push({ torch: Number(fixed.split('x')[0]), blas: Number(fixed.split('x')[1]) });
    else for (let t = 1; t <= threads; t++) for (let b = 1; t * b <= threads; b++) splits.push({ torch: t, blas: b });
    const splitRounds = splits.length > 1 ? Number(arg('split-rounds', '2')) : 0;
    for (let i = 0; i < splitRounds; i++)
      for (const s of splits) {
        const t = torchRun(common, s);
        (splitTimes[splitName(s)] ??= []).push(t.median_s);
        log(`torch split ${splitName(s)} (${t.blas}): ${t.median_s} s`, { split: splitName(s), torch_s: t.median_s, blas: t.blas });
      }
    split = splits.reduce((best, s) => (splitRounds && median(splitTimes[splitName(s)]) < median(splitTimes[splitName(best)]) ? s : best));
  }

  const wavprobe = (...extra: string[]): Json =>
    lastJson(process.execPath, [
      path.join(root, 'bin', 'wavprobe.js'),
      'bench',
      'forward',
      ...common,
      '--threads',
      String(threads),
      '--json',
      ...extra,
    ]);
  const ortArgs = (): string[] => ['--seconds', seconds, '--threads', String(threads), '--runs', '1'];
  const runners: Record<string, () => Json> = {
    // The built CLI (npm ci builds it), as `npx wavprobe` runs: code loaded through tsx runs measurably slower.
    wavprobe: () => wavprobe(),
    // wavprobe with its dense weights in plain panels instead of Strassen's layout, for the difference in the same run.
    'wavprobe-panels': () => wavprobe('--no-strassen'),
    torch: () => torchRun(common, split!),
    'ort-node': () => lastJson(process.execPath, [path.join(__dirname, 'ort_forward.mjs'), '--flavour', 'node', '--model', onnx, ...ortArgs()]),
    'ort-web': () => lastJson(process.execPath, [path.join(__dirname, 'ort_forward.mjs'), '--flavour', 'web', '--model', onnx, ...ortArgs()]),
  };
  const names = ['wavprobe', ...peers];
  for (const n of names) if (!runners[n]) throw new Error(`--peers: unknown peer ${n} (torch, ort-node, ort-web, wavprobe-panels)`);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const config: Record<string, string> = {};
  for (let i = 0; i < rounds; i++) {
    const row: Record<string, number> = {};
    for (let k = 0; k < names.length; k++) {
      const n = names[(i + k) % names.length];
      const r = runners[n]();
      times[n].push(r.median_s);
      row[n] = r.median_s;
      config[n] ??= n.startsWith('wavprobe')
        ? `${r.backend} × ${r.threads} threads, kernels ${(r.machine as { kernels: string }).kernels}, dense weights ${r.strassen ? "in Strassen's layout" : 'in panels'}`
        : n === 'torch'
          ? `${r.backend}, ${r.threads} torch threads, ${r.blas} (best split ${splitName(split!)})`
          : `${r.backend} × ${r.threads} threads`;
    }
    log(`round ${i + 1}: ${names.map((n) => `${n} ${row[n]} s`).join(', ')}`, { round: i + 1, ...row });
  }
  load.push(os.loadavg()[0]);

  const medians = Object.fromEntries(names.map((n) => [n, +median(times[n]).toFixed(3)]));
  const summary = {
    arch,
    audio_s: Number(seconds),
    threads,
    layers: layers || 'all',
    rounds,
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length, node: process.version, loadavg_1min: load },
    torch_splits: Object.fromEntries(Object.entries(splitTimes).map(([s, ts]) => [s, +median(ts).toFixed(3)])),
    peers: Object.fromEntries(names.map((n) => [n, { config: config[n], median_s: medians[n], rounds: times[n] }])),
    // wavprobe's median time over each peer's: below 1 is faster.
    ratios: Object.fromEntries(peers.map((n) => [n, ratio(medians.wavprobe, medians[n])])),
    // The same ratio round by round (both ran in the same machine state): its median, range, and the rounds won.
    paired: Object.fromEntries(peers.map((n) => [n, paired(times.wavprobe, times[n])])),
  };
  if (json) console.log(JSON.stringify(summary));
  else {
    console.log(
      `${arch}, ${seconds} s, layers ${summary.layers}, ${threads} threads, ${rounds} rounds (load ${load.map((l) => l.toFixed(1)).join(' → ')}):`,
    );
    for (const n of names)
      console.log(`  ${n.padEnd(9)} ${String(medians[n]).padStart(7)} s  ${n === 'wavprobe' ? '' : `ratio ${summary.ratios[n]}  `}${config[n]}`);
    for (const n of peers) {
      const p = summary.paired[n];
      console.log(`  round by round vs ${n}: median ${p.median}, ${p.min}–${p.max}, wavprobe faster in ${p.faster} of ${rounds}`);
    }
  }
}

if (require.main === module) main();
