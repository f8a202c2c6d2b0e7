/**
 * The published package: `npm pack`, then unpacked into a fresh project as `npm install` would place it, with the
 * dependencies linked from this checkout (tests never use the network). It must hold the built library, the CLI,
 * the demo model and data, and nothing of the specs, fixtures or tools; ESM import, CJS require and the demo work.
 * Uses the build `npm ci` made (dist/).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
let tmp: string;
let project: string;
let files: string[];

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'lib', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm ci does)');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-pack-'));
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8' }),
  );
  files = packed.files.map((f: { path: string }) => f.path);
  project = path.join(tmp, 'project');
  const installed = path.join(project, 'node_modules', 'wavprobe');
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(tmp, packed.filename), '-C', installed, '--strip-components=1']);
  for (const dep of Object.keys(pkg.dependencies)) {
    const link = path.join(project, 'node_modules', dep);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', dep), link);
  }
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
});
afterAll(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: project, encoding: 'utf8' });

it('holds the library, CLI, demo model and data, and no specs, fixtures, tools or sources', () => {
  for (const f of [
    'package.json',
    'README.md',
    'bin/wavprobe.js',
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
    'dist/lib/cli/main.js',
    'weights/demo/model.json',
    'data/digits-spoof/README.md',
  ]) {
    expect(files).toContain(f);
  }
  expect(files.filter((f) => /^(spec|tools|bench|lib|dist\/(spec|tools|bench))\/|\.spec\.|\.tsbuildinfo$/.test(f))).toEqual([]);
});

it('imports as ESM and requires as CommonJS, with the same API and types beside it', () => {
  const names = ['createDetector', 'extractFeatures', 'loadAudio', 'loadModel', 'readDataset', 'trainHead', 'useBackend'];
  const esm = node([
    '--input-type=module',
    '-e',
    `import * as w from 'wavprobe'; console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => typeof w[n])))`,
  ]);
  const cjs = node(['-e', `const w = require('wavprobe'); console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => typeof w[n])))`]);
  expect(JSON.parse(esm)).toEqual(names.map(() => 'function'));
  expect(JSON.parse(cjs)).toEqual(names.map(() => 'function'));
  const exportsField = pkg.exports['.'];
  for (const cond of ['import', 'require'])
    expect(fs.existsSync(path.join(project, 'node_modules', 'wavprobe', exportsField[cond].types))).toBe(true);
});

it('runs the demo from the installed package', () => {
  const out = path.join(tmp, 'demo');
  node([path.join(project, 'node_modules', 'wavprobe', 'bin', 'wavprobe.js'), 'demo', '--out', out]);
  expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/^# /);
}, 300_000);
