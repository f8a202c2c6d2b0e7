/** `wavprobe serve`: isolation headers, GET/HEAD only, nothing outside the served folders, Ctrl-C. */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { Served, serve } from '../../lib/serve';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path goes out exactly as written (no client-side normalisation of `..`). */
function request(url: string, target: string, method = 'GET'): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: target, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('wavprobe serve', () => {
  let tmp: string;
  let served: Served;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wavprobe-serve-'));
    const [app, models, outside] = ['app', 'models', 'outside'].map((d) => path.join(tmp, d));
    for (const d of [app, models, outside, path.join(models, 'store'), path.join(models, 'heads')]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html><title>app</title>');
    fs.writeFileSync(path.join(app, 'engine.wasm'), Buffer.from([0, 97, 115, 109]));
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    fs.writeFileSync(path.join(models, 'store', 'wavprobe.json'), '{}');
    fs.writeFileSync(path.join(models, 'heads', 'head.json'), '{"format":"x"}');
    fs.writeFileSync(path.join(models, 'clip.wav'), 'RIFF');
    fs.symlinkSync(outside, path.join(models, 'link-dir'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(models, 'link-file.json'));
    fs.symlinkSync(path.join(models, 'clip.wav'), path.join(models, 'inner-link.wav'));
    served = await serve({ port: 0, app, models });
  });

  afterAll(async () => {
    await served?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('binds to 127.0.0.1 by default and says where', () => {
    expect((served.server.address() as { address: string }).address).toBe('127.0.0.1');
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the app and the models folder cross-origin isolated, with their types', async () => {
    const index = await request(served.url, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>app</title>');
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(index.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect((await request(served.url, '/engine.wasm')).headers['content-type']).toBe('application/wasm');
    const head = await request(served.url, '/models/heads/head.json');
    expect([head.status, head.body]).toEqual([200, '{"format":"x"}']);
    expect((await request(served.url, '/models/inner-link.wav')).status).toBe(200); // a link that stays inside
  });

  it('lists stores, heads and audio at /models/, skipping links out of the folder', async () => {
    const r = await request(served.url, '/models/');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ stores: ['store'], heads: ['heads/head.json'], audio: ['clip.wav', 'inner-link.wav'] });
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await request(served.url, '/models/heads/head.json', 'HEAD');
    expect([r.status, r.body, r.headers['content-length']]).toEqual([200, '', '14']);
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])('refuses %s with 405', async (method) => {
    const r = await request(served.url, '/models/heads/head.json', method);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });

  it.each([
    ['a raw ..', '/models/../outside/secret.txt', 403],
    ['an encoded ..', '/models/%2e%2e/outside/secret.txt', 403],
    ['an encoded .. and slash', '/models/%2E%2E%2Foutside%2Fsecret.txt', 403],
    ['an encoded backslash', '/models/..%5Coutside%5Csecret.txt', 403],
    ['a symlinked folder out of DIR', '/models/link-dir/secret.txt', 403],
    ['a symlinked file out of DIR', '/models/link-file.json', 403],
    ['an encoded absolute path', `/models/${encodeURIComponent(path.join(os.tmpdir(), 'x'))}`, 403],
    ['an absolute-form target', 'http://127.0.0.1/etc/passwd', 400],
    ['a protocol-relative target', '//etc/passwd', 400],
    ['the app root escaped', '/%2e%2e/outside/secret.txt', 403],
    ['a NUL byte', '/models/clip.wav%00.json', 403],
    ['bad percent-encoding', '/models/%zz', 400],
  ])('refuses %s', async (_, target, status) => {
    const r = await request(served.url, target as string);
    expect(r.status).toBe(status);
    expect(r.body).not.toContain('secret');
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
  });

  it('answers 404 for a missing file and a folder', async () => {
    expect((await request(served.url, '/models/nothing.json')).status).toBe(404);
    expect((await request(served.url, '/models/heads')).status).toBe(404);
  });
});

describe('wavprobe serve on the command line', () => {
  const app = path.join(__dirname, '..', '..', 'dist', 'browser');

  it('prints its URL, serves the built app, and stops cleanly on Ctrl-C (SIGINT)', async () => {
    if (!fs.existsSync(path.join(app, 'index.html'))) throw new Error(`${app} is not built: run npm run build`);
    const code = "require('./lib/cli/main').main(['serve', '--port', '0'])";
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', code], { cwd: path.join(__dirname, '..', '..') });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (c) => reject(new Error(`serve exited (${c}) before printing its URL: ${out}`)));
    });
    const r = await request(url, '/');
    expect(r.status).toBe(200);
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped');
  }, 60_000);
});
