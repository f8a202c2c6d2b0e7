#!/usr/bin/env node
/**
 * The browser build (dist/browser, or the folder given as the first argument): the page (app/), the engine worker
 * (lib/browser/engine-worker.ts, the library bundled with esbuild) and tfjs-backend-wasm's binaries. Node modules on
 * the library's paths are replaced by lib/browser/shims (an in-memory fs, POSIX path, Web Workers for the kernel
 * pool, refusals for the rest), and the two Node-only files by their browser versions. Run by `npm run build`.
 */
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import process from 'process';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'browser'));
const shims = path.join(root, 'lib', 'browser', 'shims');
const require = createRequire(import.meta.url);

const NODE_MODULES = {
  fs: 'fs.ts',
  path: require.resolve('path-browserify'), // Node's posix path; cwd is the in-memory fs's root (globals.ts)
  worker_threads: 'worker_threads.ts',
  crypto: 'node-only.ts',
  v8: 'node-only.ts',
  os: 'node-only.ts',
  zlib: 'node-only.ts',
  child_process: 'node-only.ts',
  perf_hooks: 'node-only.ts',
  util: 'node-only.ts',
  url: 'node-only.ts',
  http: 'node-only.ts',
  https: 'node-only.ts',
};
/** Library files with a browser version: [the file, its replacement]. */
const REPLACED = [
  ['lib/wasm-threads.ts', 'lib/browser/wasm-threads.ts'],
  ['lib/audio/wasm-decoders.ts', 'lib/browser/wasm-decoders.ts'],
].map(([from, to]) => [path.join(root, from), path.join(root, to)]);

const browserPlugin = {
  name: 'wavprobe-browser',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_0-9]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      return NODE_MODULES[name] ? { path: path.resolve(shims, NODE_MODULES[name]) } : undefined;
    });
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path);
      for (const [from, to] of REPLACED) {
        // The replacement may import the original (for what it shares); everyone else gets the replacement.
        if ((resolved === from || `${resolved}.ts` === from) && args.importer !== to) return { path: to };
      }
      return undefined;
    });
  },
};

const common = {
  bundle: true,
  platform: 'browser',
  target: 'chrome110',
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
  plugins: [browserPlugin],
  // Node globals the library reads: no environment variables in a page, and Buffer only for base64.
  define: { 'process.env.WAVPROBE_KERNELS': 'undefined', 'process.env.WAVPROBE_STRASSEN': 'undefined', 'process.cwd': 'browserCwd' },
  inject: [path.join(shims, 'globals.ts')],
};

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
await Promise.all([
  // A classic worker (not a module): tfjs's emscripten glue relies on importScripts.
  esbuild.build({
    ...common,
    entryPoints: [path.join(root, 'lib', 'browser', 'engine-worker.ts')],
    outfile: path.join(out, 'engine.js'),
    format: 'iife',
  }),
  esbuild.build({
    ...common,
    entryPoints: [path.join(root, 'lib', 'browser', 'page.ts')],
    outfile: path.join(out, 'page.js'),
    format: 'esm',
    inject: [],
  }),
]);
for (const f of fs.readdirSync(path.join(root, 'app'))) if (!f.endsWith('.ts')) fs.copyFileSync(path.join(root, 'app', f), path.join(out, f));
const wasmDir = path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const f of fs.readdirSync(wasmDir)) if (f.endsWith('.wasm')) fs.copyFileSync(path.join(wasmDir, f), path.join(out, f));
