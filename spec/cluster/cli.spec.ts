/** The cluster commands without a cluster: the scripts and manifests they print, and extract --shard auto. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readMeta } from '../../lib/features/store';
import { runCli } from '../helpers/cli';

const ROOT = path.join(__dirname, '..', '..');
const DEMO = path.join(ROOT, 'weights', 'demo');
const DEV = path.join(ROOT, 'data', 'digits-spoof', 'dev');

let tmp: string;
let csv: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-cluster-cli-'));
  csv = path.join(tmp, 'six.csv');
  const rows = fs.readFileSync(path.join(DEV, 'meta.csv'), 'utf8').trim().split('\n').slice(1, 7);
  fs.writeFileSync(csv, ['file,speaker,label', ...rows.map((r) => path.join(DEV, r))].join('\n') + '\n');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('wavprobe slurm extract (scripts only)', () => {
  it("prints the array and merge scripts, passing on extract's arguments and not its own", async () => {
    const out = path.join(tmp, 'feat');
    const r = await runCli(
      ['slurm', 'extract', '--model', DEMO, '--data', `csv:${csv}`, '--layers', '1,3', '--max-seconds', '2', '--out', out, '--tasks', '2'].concat([
        '--cpus-per-task',
        '2',
        '--partition',
        'short',
        '--sbatch-arg=--qos=low',
        '--wavprobe',
        'wavprobe',
      ]),
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('#SBATCH --array=0-1');
    expect(lines).toContain('#SBATCH --partition=short');
    expect(lines).toContain('#SBATCH --qos=low');
    expect(lines).toContain(`#SBATCH --chdir=${process.cwd()}`);
    expect(lines).toContain(
      `wavprobe extract --model ${DEMO} --data csv:${csv} --layers 1,3 --max-seconds 2 --backend wasm --pool mean --workers 2` +
        ` --shard "$SLURM_ARRAY_TASK_ID/2" --out ${out}.shards/"$SLURM_ARRAY_TASK_ID"`,
    );
    expect(lines).toContain(`wavprobe merge ${out}.shards/{0..1} --out ${out}`);
    expect(fs.existsSync(`${out}.slurm`)).toBe(false); // printing writes nothing
  });

  it('--script-out writes both scripts and the folders their jobs write to', async () => {
    const out = path.join(tmp, 'written');
    const file = path.join(tmp, 'job.sbatch');
    const r = await runCli(['slurm', 'extract', '--model', DEMO, '--data', `csv:${csv}`, '--out', out, '--tasks', '3', '--script-out', file]);
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toContain('#SBATCH --array=0-2\n');
    expect(fs.readFileSync(path.join(tmp, 'job-merge.sbatch'), 'utf8')).toContain(`merge ${out}.shards/{0..2} --out ${out}`);
    expect(fs.statSync(`${out}.slurm/logs`).isDirectory() && fs.statSync(`${out}.slurm/exit`).isDirectory()).toBe(true);
  });

  it('refuses --shard, more tasks than files, and a model it cannot describe, in one line before submitting anything', async () => {
    const base = ['slurm', 'extract', '--model', DEMO, '--data', `csv:${csv}`, '--out', path.join(tmp, 'bad')];
    expect((await runCli([...base, '--tasks', '2', '--shard', '0/2'])).stderr).toBe('wavprobe slurm: --shard is set per task; give --tasks N\n');
    expect((await runCli([...base, '--tasks', '7'])).stderr).toBe("wavprobe slurm: --tasks 7 is more than the dataset's 6 files\n");
    expect((await runCli([...base, '--tasks', '2', '--workers', '4'])).stderr).toBe(
      "wavprobe slurm: each task's --workers is its --cpus-per-task; give --cpus-per-task N\n",
    );
    const r = await runCli(['slurm', 'extract', '--model', tmp, '--data', `csv:${csv}`, '--out', path.join(tmp, 'bad'), '--tasks', '2']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^wavprobe slurm: .*\n$/);
  });
});

describe('wavprobe k8s extract', () => {
  it('prints an Indexed Job running extract --shard auto --shards N per pod, and a merge Job that waits for every shard', async () => {
    const r = await runCli(
      ['k8s', 'extract', '--model', '/models/xls-r', '--data', 'in-the-wild:/data/itw', '--out', '/data/feat/itw', '--tasks', '2'].concat([
        '--image',
        'ghcr.io/me/wavprobe:0.1',
        '--volume',
        'data:/data',
        '--cpus-per-task',
        '2',
        '--mem',
        '8Gi',
        '--name',
        'itw',
      ]),
    );
    expect(r.exitCode).toBe(0);
    const [extract, merge] = r.stdout.split('\n---\n').map((doc) => doc.split('\n').map((l) => l.trim()));
    // What the Kubernetes docs ask of an Indexed Job, and the arguments each pod runs.
    for (const line of ['kind: Job', 'name: itw-extract', 'completionMode: Indexed', 'completions: 2', 'parallelism: 2', 'restartPolicy: Never']) {
      expect(extract).toContain(line);
    }
    expect(extract).toContain(
      'args: [extract, --model, /models/xls-r, --data, "in-the-wild:/data/itw", --backend, wasm, --layers, all, --pool, mean,' +
        ' --shard, auto, --shards, "2", --workers, "2", --out, "/data/feat/itw.shards/$(JOB_COMPLETION_INDEX)"]',
    );
    expect(extract).toContain(`fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"`);
    expect(extract.join('\n')).toContain('requests:\ncpu: "2"\nmemory: "8Gi"\nlimits:\nmemory: "8Gi"');
    expect(extract.join('\n')).toContain('volumeMounts:\n- name: data-0\nmountPath: /data');
    expect(extract.join('\n')).toContain('volumes:\n- name: data-0\npersistentVolumeClaim:\nclaimName: data');
    expect(merge).toContain('name: itw-merge');
    expect(merge).toContain(
      'command: [sh, -c, "for d in /data/feat/itw.shards/0 /data/feat/itw.shards/1; do until [ -f \\"$d/meta.json\\" ]; do sleep 30; done; done"]',
    );
    expect(merge).toContain('args: [merge, /data/feat/itw.shards/0, /data/feat/itw.shards/1, --out, /data/feat/itw]');
  });

  it('refuses a relative --out and a malformed --volume', async () => {
    const base = ['k8s', 'extract', '--model', 'm', '--data', 'folder:/d', '--tasks', '2', '--image', 'i'];
    expect((await runCli([...base, '--out', 'rel/out'])).stderr).toBe(
      'wavprobe k8s: --out must be an absolute path inside the containers, got "rel/out"\n',
    );
    expect((await runCli([...base, '--out', '/o', '--volume', 'data'])).stderr).toBe(
      'wavprobe k8s: --volume must be CLAIM:/mount/path (a PersistentVolumeClaim name and an absolute path), got "data"\n',
    );
  });
});

describe('wavprobe extract --shard auto', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'JOB_COMPLETION_INDEX']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('extracts the shard a SLURM array task is, and the one an Indexed Job pod is with --shards', async () => {
    Object.assign(process.env, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' });
    const a = path.join(tmp, 'auto-slurm');
    expect((await runCli(['extract', '--model', DEMO, '--data', `csv:${csv}`, '--layers', '1', '--shard', 'auto', '--out', a])).exitCode).toBe(0);
    expect((readMeta(a)!.extraction as { shard: unknown; items: number }).shard).toEqual({ index: 1, count: 3 });
    delete process.env.SLURM_ARRAY_TASK_ID;
    process.env.JOB_COMPLETION_INDEX = '2';
    const k = path.join(tmp, 'auto-k8s');
    expect(
      (await runCli(['extract', '--model', DEMO, '--data', `csv:${csv}`, '--layers', '1', '--shard', 'auto', '--shards', '3', '--out', k])).exitCode,
    ).toBe(0);
    expect(readMeta(k)!.extraction).toMatchObject({ shard: { index: 2, count: 3 }, items: 2 });
  });

  it('says in one line what it needs when neither scheduler set its variables', async () => {
    delete process.env.SLURM_ARRAY_TASK_ID;
    delete process.env.JOB_COMPLETION_INDEX;
    const r = await runCli(['extract', '--model', DEMO, '--data', `csv:${csv}`, '--shard', 'auto', '--out', path.join(tmp, 'none')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      'wavprobe extract: --shard auto needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a SLURM job array) or JOB_COMPLETION_INDEX with --shards N (a Kubernetes Indexed Job); neither is set\n',
    );
  });
});
