/**
 * `wavprobe serve`: the browser app (dist/browser, built by tools/build-browser.mjs) and, read-only under /models/,
 * every file of a folder the user names (converted stores, heads, audio). Node's http module only.
 *
 * Every response is cross-origin isolated (COOP same-origin + COEP require-corp), so the page gets SharedArrayBuffer
 * and tfjs-wasm's threaded build. Only GET and HEAD; a path is resolved with its symlinks and must stay inside its
 * root (an encoded `..`, a symlink out of the folder or an absolute path is refused with 403).
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { UsageError } from './errors';
import { packageRoot } from './version';

export interface ServeOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: nothing leaves the machine unless the user says so. */
  host?: string;
  /** Served read-only at /models/. */
  models?: string;
  /** The app's folder (default dist/browser of this install). */
  app?: string;
}

export interface Served {
  url: string;
  server: http.Server;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** The built app of this install (tools/build-browser.mjs writes it during `npm run build`). */
export const appDir = (): string => path.join(packageRoot(), 'dist', 'browser');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** Refusals carry their HTTP status. */
class Refused extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** True when `file` (a real path) is `root` or lies inside it. */
const inside = (root: string, file: string): boolean => file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/**
 * The real path of URL path `rel` (still percent-encoded, without the root's prefix) under `root` (a real path).
 * Segments are decoded one by one, so an encoded `/` or `\` cannot smuggle a separator; `.`/`..` segments, NUL,
 * and a resolved path outside root (a symlink pointing out) are refused.
 */
export function resolveInside(root: string, rel: string): string {
  const parts = rel.split('/').filter((s) => s !== '');
  const names = parts.map((s) => {
    let name: string;
    try {
      name = decodeURIComponent(s);
    } catch {
      throw new Refused(400, 'bad percent-encoding');
    }
    if (name === '.' || name === '..' || /[/\\\0]/.test(name) || path.isAbsolute(name)) throw new Refused(403, 'path outside the served folder');
    return name;
  });
  const file = path.join(root, ...names);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    throw new Refused(404, 'not found');
  }
  if (!inside(root, real)) throw new Refused(403, 'path outside the served folder');
  return real;
}

/** What /models/ lists: converted stores (folders with wavprobe.json), head files (*.json) and audio, as URL paths. */
export interface ModelsListing {
  stores: string[];
  heads: string[];
  audio: string[];
}

/** Walks `root` (symlinks out of it skipped, 4 folders deep) for the page's pickers. */
export function listModels(root: string, depth = 4): ModelsListing {
  const out: ModelsListing = { stores: [], heads: [], audio: [] };
  const walk = (dir: string, rel: string[], left: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.name === 'wavprobe.json')) {
      out.stores.push(rel.map(encodeURIComponent).join('/'));
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      let real: string;
      try {
        real = fs.realpathSync(path.join(dir, e.name));
      } catch {
        continue;
      }
      if (!inside(root, real)) continue;
      const url = [...rel, e.name].map(encodeURIComponent).join('/');
      const stat = fs.statSync(real);
      if (stat.isDirectory() && left > 0) walk(real, [...rel, e.name], left - 1);
      else if (stat.isFile() && /\.json$/i.test(e.name)) out.heads.push(url);
      else if (stat.isFile() && /\.(wav|flac|mp3)$/i.test(e.name)) out.audio.push(url);
    }
  };
  walk(root, [], depth);
  return out;
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void {
  res.writeHead(status, { ...ISOLATION, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache' });
  res.end(head ? undefined : body);
}

function sendFile(res: http.ServerResponse, file: string, head: boolean): void {
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new Refused(404, 'not a file');
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, { ...ISOLATION, 'Content-Type': type, 'Content-Length': stat.size, 'Cache-Control': 'no-cache' });
  if (head) res.end();
  else
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
}

/** The request handler: GET/HEAD only, the app at /, the models folder at /models/. */
export function handler(app: string, models: string | undefined): http.RequestListener {
  return (req, res) => {
    const head = req.method === 'HEAD';
    try {
      if (req.method !== 'GET' && !head) {
        res.setHeader('Allow', 'GET, HEAD');
        throw new Refused(405, `method ${req.method} not allowed (GET and HEAD only)`);
      }
      const target = req.url ?? '/';
      // Only origin-form targets ("/path?query"): an absolute URL or `*` is refused.
      if (!target.startsWith('/') || target.startsWith('//')) throw new Refused(400, 'request target must be a path');
      const pathname = target.split(/[?#]/)[0];
      if (pathname === '/models' || pathname.startsWith('/models/')) {
        if (!models) throw new Refused(404, 'no models folder (start with --models DIR)');
        const rel = pathname.slice('/models'.length);
        if (rel === '' || rel === '/') return send(res, 200, TYPES['.json'], JSON.stringify(listModels(models)), head);
        return sendFile(res, resolveInside(models, rel), head);
      }
      const rel = pathname === '/' ? '/index.html' : pathname;
      sendFile(res, resolveInside(app, rel), head);
    } catch (e) {
      const status = e instanceof Refused ? e.status : 500;
      send(res, status, 'text/plain; charset=utf-8', `${status} ${e instanceof Error ? e.message : String(e)}\n`, head);
    }
  };
}

/** Starts the server; resolves once it listens. */
export async function serve(opts: ServeOptions = {}): Promise<Served> {
  const app = fs.realpathSync(opts.app ?? appDir());
  if (!fs.existsSync(path.join(app, 'index.html'))) throw new UsageError('no browser app here (build it: npm run build)', app);
  let models: string | undefined;
  if (opts.models !== undefined) {
    if (!fs.existsSync(opts.models) || !fs.statSync(opts.models).isDirectory()) throw new UsageError('--models must be a folder', opts.models);
    models = fs.realpathSync(opts.models);
  }
  const server = http.createServer(handler(app, models));
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UsageError(`port ${opts.port} is in use (choose another with --port)`) : e),
    );
    server.listen(opts.port ?? 8080, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
