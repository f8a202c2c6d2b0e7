/**
 * wavprobe vs PyTorch on one machine, interleaved: rounds of (ours, torch), each a fresh process with --runs 1 after
 * its own warm-up, so both see the same machine state. Prints each round and the ratio of medians (ours / torch).
 * On demand, not in CI; needs python3-torch + python3-torchaudio + libopenblas0-pthread (set PYTHON to the interpreter
 * that has them).
 *
 *   npx tsx bench/peers/compare.ts --arch wav2vec2-base --seconds 10 --threads 2 --rounds 3 [--layers 7]
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { median } from '../../lib/bench/machine';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function lastJson(cmd: string, args: string[]): { median_s: number } & Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  const line = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line);
}

const [arch, seconds, threads, rounds, layers] = [
  arg('arch', 'wav2vec2-base'),
  arg('seconds', '10'),
  arg('threads', '2'),
  Number(arg('rounds', '3')),
  arg('layers', ''),
];
const root = path.join(__dirname, '..', '..');
const common = ['--arch', arch, '--seconds', seconds, '--threads', threads, '--runs', '1', ...(layers ? ['--layers', layers] : [])];
const ours: number[] = [];
const torch: number[] = [];
for (let i = 0; i < rounds; i++) {
  // The built CLI (npm ci builds it), as `npx wavprobe` runs: code loaded through tsx runs measurably slower.
  const o = lastJson(process.execPath, [path.join(root, 'bin', 'wavprobe.js'), 'bench', 'forward', ...common, '--json']);
  const t = lastJson(process.env.PYTHON ?? 'python3', [path.join(__dirname, 'torch_forward.py'), ...common]);
  ours.push(o.median_s);
  torch.push(t.median_s);
  console.log(JSON.stringify({ round: i + 1, wavprobe_s: o.median_s, torch_s: t.median_s, torch: t.backend }));
}
console.log(
  JSON.stringify({
    arch,
    audio_s: Number(seconds),
    threads: Number(threads),
    layers: layers || 'all',
    wavprobe_median_s: median(ours),
    torch_median_s: median(torch),
    ratio: +(median(ours) / median(torch)).toFixed(2),
  }),
);
