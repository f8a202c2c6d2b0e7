/**
 * A local stand-in for the Hugging Face hub (node:http on 127.0.0.1, port 0): `/{repo}/resolve/{revision}/{file}`,
 * LFS files (weights) answered with a 302 to a second "CDN" server (another origin) carrying X-Linked-Etag = sha256,
 * Range requests, optional token, and a switch that cuts a file's first download mid-body.
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
}

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

const listen = (server: http.Server): Promise<string> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const requests: RequestLog[] = [];
  const blobs = new Map<string, { file: string; name: string }>();
  const cut = new Set(opts.cutFirst ?? []);
  const log = (server: 'hub' | 'cdn', req: http.IncomingMessage) =>
    requests.push({ server, path: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });

  const cdn = http.createServer((req, res) => {
    log('cdn', req);
    const blob = blobs.get((req.url ?? '').replace('/blobs/', ''));
    if (!blob) return res.writeHead(404).end();
    const data = fs.readFileSync(blob.file);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= data.length && data.length > 0) return res.writeHead(416).end();
    const body = data.subarray(start);
    res.writeHead(m ? 206 : 200, { 'Content-Length': body.length, ...(m ? { 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
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
    if (LFS.test(m[3])) {
      const sha = sha256(file);
      blobs.set(sha, { file, name: m[3] });
      const announced = opts.badSha?.includes(m[3]) ? '0'.repeat(64) : sha;
      return res.writeHead(302, { Location: `${cdnUrl}/blobs/${sha}`, 'X-Linked-Etag': `"${announced}"`, 'X-Linked-Size': fs.statSync(file).size }).end();
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
