/**
 * eval and probe refuse features of another model than the head's (hardening class 4): `eval` of a head on another
 * model's store once gave a silent chance-level EER.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readMeta } from '../../lib/features/store';
import { writeFileAtomic } from '../../lib/atomic';
import { runCli } from '../helpers/cli';
import { gaussianStore, tmpDir } from '../helpers/probe';

let dir: string;
const store = (name: string, model: string, seed: number): string => {
  const out = path.join(dir, name);
  gaussianStore(out, { seed });
  writeFileAtomic(
    path.join(out, 'meta.json'),
    JSON.stringify({ ...readMeta(out), model, model_fingerprint: `sha256:${String(seed).repeat(64).slice(0, 64)}` }),
  );
  return out;
};
beforeAll(() => (dir = tmpDir()));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('eval: refused naming both models; --allow-model-mismatch scores it', async () => {
  const a = store('a', 'org/a@main', 1);
  const b = store('b', 'org/b@main', 2);
  const head = path.join(dir, 'head.json');
  expect((await runCli(['train', '--features', a, '--layer', '1', '--C', '1', '--out', head])).exitCode).toBe(0);
  const r = await runCli(['eval', '--head', head, '--features', b, '--out', path.join(dir, 'report'), '--json']);
  expect([r.exitCode, r.stdout]).toEqual([1, '']);
  expect(r.stderr).toBe(
    `wavprobe eval: ${b}: the head was trained on features of org/a@main (sha256:111111111111…), these come from org/b@main (sha256:222222222222…); --allow-model-mismatch overrides this if they are the same model\n`,
  );
  expect(fs.existsSync(path.join(dir, 'report'))).toBe(false);
  const allowed = await runCli(['eval', '--head', head, '--features', b, '--out', path.join(dir, 'report'), '--json', '--allow-model-mismatch']);
  expect(allowed.exitCode).toBe(0);
  expect(JSON.parse(allowed.stdout).eer_asvspoof).toEqual(expect.any(Number));
});

it('probe: an eval or calibration store of another model is refused', async () => {
  const a = store('pa', 'org/a@main', 3);
  const b = store('pb', 'org/b@main', 4);
  for (const args of [
    ['--eval', b],
    ['--eval', a, '--calibrate-on', b],
  ]) {
    const r = await runCli(['probe', '--train', a, ...args, '--C', '1']);
    expect([r.exitCode, r.stderr]).toEqual([
      1,
      expect.stringMatching(new RegExp(`^wavprobe probe: ${b}: the head was trained on features of org/a@main .*, these come from org/b@main`)),
    ]);
  }
});
