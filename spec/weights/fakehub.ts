/**
 * A local stand-in for the Hugging Face hub (node:http on 127.0.0.1, port 0): `/{repo}/resolve/{revision}/{file}`,
 * LFS files (weights) answered with a 302 to a second "CDN" server (another origin) carrying X-Linked-Etag = sha256,
 * Range requests, optional token, a switch that cuts a file's first download mid-body, and hostile answers.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';

export interface FakeRepo {
  /** file name → local path of its content */
  files: Record<string, string>;
}

export interface FakeHubOptions {
  /** `org/name@revision` → repo */
  repos: Record<string, FakeRepo>;
  /** When set, the hub answers 401 unless `Authorization: Bearer <token>`. */
  token?: string;
  /** File names whose first CDN download is cut after half the body. */
  cutFirst?: string[];
  /** File names announced with a wrong sha256. */
  badSha?: string[];
  /** LFS file names announced (X-Linked-Size) one byte longer than they are. */
  badSize?: string[];
  /** File name → a hostile answer from the hub itself (no LFS redirect). */
  hostile?: Record<string, Hostile>;
  /** Milliseconds between the bytes of a 'trickle' body (default 1000). */
  trickleMs?: number;
}

/**
 * `endless`: 200 without Content-Length and bytes until the client hangs up (64 MiB at most);
 * `trickle`: the right Content-Length, then one byte every `trickleMs`;
 * `file-redirect`: a 302 to file:///etc/passwd;
 * `short-length`: a Content-Length half the body's, then the whole body;
 * `truncated`: a Content-Length half the body's, and that half (a file cut short, which no byte on the wire betrays).
 */
export type Hostile = 'endless' | 'trickle' | 'file-redirect' | 'short-length' | 'truncated';

export interface RequestLog {
  server: 'hub' | 'cdn';
  path: string;
  range?: string;
  auth?: string;
}

export interface FakeHub {
  endpoint: string;
  requests: RequestLog[];
  close(): Promise<void>;
}

const LFS = /\.(safetensors|bin)$/;
const sha256 = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

const ENDLESS_MAX = 64 << 20;

function hostile(how: Hostile, data: Buffer, trickleMs: number, res: http.ServerResponse): void {
  if (how === 'file-redirect') {
    res.writeHead(302, { Location: 'file:///etc/passwd' }).end();
  } else if (how === 'short-length') {
    res.socket!.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length >> 1}\r\n\r\n`), data]));
  } else if (how === 'truncated') {
    res.writeHead(200, { 'Content-Length': data.length >> 1 }).end(data.subarray(0, data.length >> 1));
  } else if (how === 'trickle') {
    res.writeHead(200, { 'Content-Length': data.length }).flushHeaders();
    let sent = 0;
    const timer = setInterval(() => (sent < data.length ? res.write(data.subarray(sent, ++sent)) : res.end()), trickleMs);
    res.on('close', () => clearInterval(timer));
  } else {
    res.writeHead(200);
    const chunk = Buffer.alloc(64 << 10, 'x');
    let sent = 0;
    const more = (): void => {
      for (; !res.destroyed && sent < ENDLESS_MAX; sent += chunk.length) if (!res.write(chunk)) return void res.once('drain', more);
      res.end();
    };
    more();
  }
}

const listen = (server: http.Server): Promise<string> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const requests: RequestLog[] = [];
  const blobs = new Map<string, { file: string; name: string }>();
  const cut = new Set(opts.cutFirst ?? []);
  const log = (server: 'hub' | 'cdn', req: http.IncomingMessage) =>
    requests.push({
      server,
      path: req.url ?? '',
      ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
    });

  const cdn = http.createServer((req, res) => {
    log('cdn', req);
    const blob = blobs.get((req.url ?? '').replace('/blobs/', ''));
    if (!blob) return res.writeHead(404).end();
    const data = fs.readFileSync(blob.file);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= data.length && data.length > 0) return res.writeHead(416).end();
    const body = data.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'Content-Length': body.length,
      ...(m ? { 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (cut.delete(blob.name)) {
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  });
  const cdnUrl = await listen(cdn);

  const hub = http.createServer((req, res) => {
    log('hub', req);
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return res.writeHead(401).end('Unauthorized');
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
    const repo = m && opts.repos[`${m[1]}@${decodeURIComponent(m[2])}`];
    const file = m && repo?.files[m[3]];
    if (!m || !file) return res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end('Entry not found');
    const how = opts.hostile?.[m[3]];
    if (how) return hostile(how, fs.readFileSync(file), opts.trickleMs ?? 1000, res);
    if (LFS.test(m[3])) {
      const sha = sha256(file);
      blobs.set(sha, { file, name: m[3] });
      const announced = opts.badSha?.includes(m[3]) ? '0'.repeat(64) : sha;
      const size = fs.statSync(file).size + (opts.badSize?.includes(m[3]) ? 1 : 0);
      return res.writeHead(302, { Location: `${cdnUrl}/blobs/${sha}`, 'X-Linked-Etag': `"${announced}"`, 'X-Linked-Size': size }).end();
    }
    const data = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Length': data.length, ETag: `"${crypto.createHash('sha1').update(data).digest('hex')}"` }).end(data);
  });
  const endpoint = await listen(hub);

  return {
    endpoint,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        hub.closeAllConnections();
        cdn.closeAllConnections();
        hub.close(() => cdn.close(() => resolve()));
      }),
  };
}
