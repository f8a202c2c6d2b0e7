import * as fs from 'fs';
import * as path from 'path';
import { DownloadError, UsageError } from '../../lib/errors';
import { readCheckpoint } from '../../lib/weights/checkpoint';
import { DOWNLOAD_RECORD, HubOptions, downloadCheckpoint, hubCacheDir, hubUrl, looksLikeHubId, parseHubId } from '../../lib/weights/hub';
import { readSafetensors, writeSafetensors } from '../../lib/weights/safetensors';
import { FakeHub, FakeHubOptions, FakeRepo, startFakeHub } from './fakehub';
import { cleanupTmp, goldenDir, tmpDir } from './helpers';

const golden = (m: string, names: string[]): FakeRepo => ({ files: Object.fromEntries(names.map((n) => [n, path.join(goldenDir(m), n)])) });
const ALL = ['config.json', 'preprocessor_config.json', 'model.safetensors', 'pytorch_model.bin'];
const same = (a: string, b: string) => fs.readFileSync(a).equals(fs.readFileSync(b));

let hub: FakeHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});
afterAll(cleanupTmp);

describe('hub ids', () => {
  it('parses org/name[@revision] and builds the resolve URL and cache folder', () => {
    expect(parseHubId('facebook/wav2vec2-xls-r-300m')).toEqual({ repo: 'facebook/wav2vec2-xls-r-300m', revision: 'main' });
    const id = parseHubId('org/m.v2@refs/pr/1');
    expect(id).toEqual({ repo: 'org/m.v2', revision: 'refs/pr/1' });
    expect(hubUrl('https://hf.example/', id, 'config.json')).toBe('https://hf.example/org/m.v2/resolve/refs%2Fpr%2F1/config.json');
    expect(hubCacheDir(id, '/c')).toBe(path.join('/c', 'hub', 'org--m.v2', 'refs--pr--1'));
    for (const bad of ['name-only', 'a/b/c', '../x/y', 'org/name@', '/abs/path', 'org/../x']) {
      expect([bad, looksLikeHubId(bad)]).toEqual([bad, false]);
    }
    expect(() => parseHubId('nope')).toThrow(UsageError);
  });
});

describe('downloadCheckpoint (local fake hub)', () => {
  it('fetches only config, preprocessor config and model.safetensors (LFS via a redirect, no token to the CDN); cached next time', async () => {
    hub = await startFakeHub({ repos: { 'org/w2v@main': golden('wav2vec2_base_tiny', ALL) }, token: 'sekrit' });
    const cache = tmpDir();
    const dir = await downloadCheckpoint('org/w2v', { endpoint: hub.endpoint, token: 'sekrit', cacheDir: cache });
    expect(dir).toBe(path.join(cache, 'hub', 'org--w2v', 'main'));
    expect(hub.requests.map((r) => `${r.server} ${r.path.replace(/[0-9a-f]{64}/, 'SHA')} ${r.auth ?? '-'}`)).toEqual([
      'hub /org/w2v/resolve/main/config.json Bearer sekrit',
      'hub /org/w2v/resolve/main/preprocessor_config.json Bearer sekrit',
      'hub /org/w2v/resolve/main/model.safetensors Bearer sekrit',
      'cdn /blobs/SHA -',
    ]);
    for (const f of ['config.json', 'preprocessor_config.json', 'model.safetensors'])
      expect([f, same(path.join(dir, f), path.join(goldenDir('wav2vec2_base_tiny'), f))]).toEqual([f, true]);
    expect(fs.existsSync(path.join(dir, 'pytorch_model.bin'))).toBe(false);
    expect(fs.readdirSync(dir).sort()).toEqual(['.wavprobe', 'config.json', 'model.safetensors', 'preprocessor_config.json']);
    expect(fs.readdirSync(path.join(dir, '.wavprobe'))).toEqual(['download.json']);
    expect(JSON.parse(fs.readFileSync(path.join(dir, DOWNLOAD_RECORD), 'utf8'))).toMatchObject({
      repo: 'org/w2v',
      revision: 'main',
      files: ['config.json', 'preprocessor_config.json', 'model.safetensors'],
    });
    readCheckpoint(dir);
    hub.requests.splice(0);
    expect(await downloadCheckpoint('org/w2v', { endpoint: hub.endpoint, token: 'sekrit', cacheDir: cache })).toBe(dir);
    expect(hub.requests).toEqual([]);
  });

  it('resumes an interrupted download with a Range request; the result is byte-identical', async () => {
    hub = await startFakeHub({ repos: { 'org/wavlm@v1': golden('wavlm_large_tiny', ALL) }, cutFirst: ['model.safetensors'] });
    const cache = tmpDir();
    const opts = { endpoint: hub.endpoint, cacheDir: cache };
    await expect(downloadCheckpoint('org/wavlm@v1', opts)).rejects.toThrow(
      /model.safetensors: download interrupted after \d+ of 119640 bytes .*run again to resume/,
    );
    const dir = hubCacheDir(parseHubId('org/wavlm@v1'), cache);
    const part = path.join(dir, '.wavprobe', 'model.safetensors.part');
    const have = fs.statSync(part).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(119640);
    expect(fs.existsSync(path.join(dir, DOWNLOAD_RECORD))).toBe(false);
    hub.requests.splice(0);
    await downloadCheckpoint('org/wavlm@v1', opts);
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    expect(cdn.map((r) => r.range)).toEqual([`bytes=${have}-`]);
    expect(hub.requests.filter((r) => r.path.endsWith('/config.json'))).toEqual([]); // already complete: not fetched again
    expect(same(path.join(dir, 'model.safetensors'), path.join(goldenDir('wavlm_large_tiny'), 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(part)).toBe(false);
  });

  it('401 without a token and 404 for an unknown repository are DownloadErrors naming the URL', async () => {
    hub = await startFakeHub({ repos: { 'org/private@main': golden('hubert_base_tiny', ALL) }, token: 'sekrit' });
    const cache = tmpDir();
    const url = `${hub.endpoint}/org/private/resolve/main/config.json`;
    const err = await downloadCheckpoint('org/private', { endpoint: hub.endpoint, cacheDir: cache, token: '' }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe(`${url}: HTTP 401: not authorized (a gated or private repository? set HF_TOKEN to a token with access)`);
    const missing = await downloadCheckpoint('org/absent@main', { endpoint: hub.endpoint, cacheDir: cache, token: 'sekrit' }).catch((e) => e);
    expect(missing).toBeInstanceOf(DownloadError);
    expect(missing.message).toBe(
      `${hub.endpoint}/org/absent/resolve/main/config.json: HTTP 404: no such repository or revision, or it has no config.json`,
    );
  });

  it('takes the endpoint and token from HF_ENDPOINT and HF_TOKEN', async () => {
    hub = await startFakeHub({ repos: { 'org/env@main': golden('hubert_base_tiny', ALL) }, token: 'from-env' });
    const saved = { e: process.env.HF_ENDPOINT, t: process.env.HF_TOKEN };
    process.env.HF_ENDPOINT = hub.endpoint;
    process.env.HF_TOKEN = 'from-env';
    try {
      const dir = await downloadCheckpoint('org/env', { cacheDir: tmpDir() });
      expect(fs.existsSync(path.join(dir, 'model.safetensors'))).toBe(true);
      expect(hub.requests.filter((r) => r.server === 'hub').every((r) => r.auth === 'Bearer from-env')).toBe(true);
    } finally {
      for (const [k, v] of [
        ['HF_ENDPOINT', saved.e],
        ['HF_TOKEN', saved.t],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('sharded safetensors: the index, then each shard; a missing preprocessor config is fine', async () => {
    const src = tmpDir();
    const all = readSafetensors(path.join(goldenDir('wav2vec2_large_tiny'), 'model.safetensors'));
    const names = [...all.keys()];
    const shardOf = (i: number) => `model-0000${i < names.length / 2 ? 1 : 2}-of-00002.safetensors`;
    for (const s of [shardOf(0), shardOf(names.length - 1)]) {
      writeSafetensors(path.join(src, s), new Map(names.filter((_, i) => shardOf(i) === s).map((n) => [n, all.get(n)!])));
    }
    fs.writeFileSync(
      path.join(src, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: Object.fromEntries(names.map((n, i) => [n, shardOf(i)])) }),
    );
    fs.copyFileSync(path.join(goldenDir('wav2vec2_large_tiny'), 'config.json'), path.join(src, 'config.json'));
    const files = ['config.json', 'model.safetensors.index.json', shardOf(0), shardOf(names.length - 1)];
    hub = await startFakeHub({ repos: { 'org/sharded@main': { files: Object.fromEntries(files.map((f) => [f, path.join(src, f)])) } } });
    const dir = await downloadCheckpoint('org/sharded', { endpoint: hub.endpoint, cacheDir: tmpDir() });
    expect(hub.requests.filter((r) => r.server === 'hub').map((r) => path.basename(r.path))).toEqual([
      'config.json',
      'preprocessor_config.json',
      'model.safetensors',
      'model.safetensors.index.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    const a = readCheckpoint(dir);
    const b = readCheckpoint(goldenDir('wav2vec2_large_tiny'));
    expect([...a.weights.keys()]).toEqual([...b.weights.keys()]);
    expect(a.weightFile).toBe(path.join(dir, 'model.safetensors.index.json'));
  });

  it('falls back to pytorch_model.bin when the repository has no safetensors', async () => {
    hub = await startFakeHub({
      repos: { 'org/bin@main': golden('hubert_base_tiny', ['config.json', 'preprocessor_config.json', 'pytorch_model.bin']) },
    });
    const dir = await downloadCheckpoint('org/bin', { endpoint: hub.endpoint, cacheDir: tmpDir() });
    expect(same(path.join(dir, 'pytorch_model.bin'), path.join(goldenDir('hubert_base_tiny'), 'pytorch_model.bin'))).toBe(true);
    expect(readCheckpoint(dir).weightFile).toBe(path.join(dir, 'pytorch_model.bin'));
  });

  it('rejects a download whose sha256 differs from the one the hub announced, and a repo without weights', async () => {
    hub = await startFakeHub({
      repos: { 'org/bad@main': golden('hubert_base_tiny', ALL), 'org/empty@main': golden('hubert_base_tiny', ['config.json']) },
      badSha: ['model.safetensors'],
    });
    const cache = tmpDir();
    await expect(downloadCheckpoint('org/bad', { endpoint: hub.endpoint, cacheDir: cache })).rejects.toThrow(
      /model.safetensors: downloaded file does not match the sha256/,
    );
    expect(fs.readdirSync(hubCacheDir(parseHubId('org/bad'), cache)).sort()).toEqual(['.wavprobe', 'config.json', 'preprocessor_config.json']);
    expect(fs.readdirSync(path.join(hubCacheDir(parseHubId('org/bad'), cache), '.wavprobe'))).toEqual([]);
    await expect(downloadCheckpoint('org/empty', { endpoint: hub.endpoint, cacheDir: cache })).rejects.toThrow(
      /org\/empty: no weight file \(looked for model.safetensors, /,
    );
  });
});

describe('downloadCheckpoint against a hostile hub', () => {
  const TINY = golden('hubert_base_tiny', ALL);
  /** Starts a hub with `repo` as org/x@main and downloads it with `opts`: the error (or undefined), the download folder, the files' URLs. */
  async function attempt(repo: FakeRepo, hubOpts: Omit<FakeHubOptions, 'repos'>, opts: HubOptions = {}, cache = tmpDir()) {
    hub = await startFakeHub({ repos: { 'org/x@main': repo }, ...hubOpts });
    const err = await downloadCheckpoint('org/x', { endpoint: hub.endpoint, cacheDir: cache, ...opts }).then(
      () => undefined,
      (e) => e,
    );
    return { err, dir: hubCacheDir(parseHubId('org/x'), cache), url: (f: string) => `${hub!.endpoint}/org/x/resolve/main/${f}` };
  }
  /** What a download left in its folder (bookkeeping included). */
  const left = (dir: string) =>
    [...fs.readdirSync(dir).filter((f) => f !== '.wavprobe'), ...fs.readdirSync(path.join(dir, '.wavprobe')).map((f) => `.wavprobe/${f}`)].sort();

  it('aborts a body over the size limit (JSON or weights, or over what the index allows) and removes its partial file', async () => {
    const json = await attempt(TINY, { hostile: { 'config.json': 'endless' } }, { maxJsonBytes: 65536 });
    expect(json.err).toBeInstanceOf(DownloadError);
    expect(json.err.message).toBe(`${json.url('config.json')}: sent more than 65536 bytes, the limit for a JSON file (maxJsonBytes); removed`);
    expect(left(json.dir)).toEqual([]);
    await hub!.close();

    const weights = await attempt(TINY, { hostile: { 'model.safetensors': 'endless' } }, { maxWeightBytes: 1 << 20 });
    expect(weights.err.message).toBe(
      `${weights.url('model.safetensors')}: sent more than 1048576 bytes, the limit for a weight file (maxWeightBytes); removed`,
    );
    expect(left(weights.dir)).toEqual(['config.json', 'preprocessor_config.json']);
    await hub!.close();

    const announced = await attempt(TINY, {}, { maxWeightBytes: 100_000 });
    const size = fs.statSync(TINY.files['model.safetensors']).size;
    expect(announced.err.message).toBe(
      `${announced.url('model.safetensors')}: is ${size} bytes, more than 100000, the limit for a weight file (maxWeightBytes)`,
    );
    expect(hub!.requests.filter((r) => r.server === 'cdn')).toHaveLength(1); // refused on its headers
    await hub!.close();

    // A safetensors index's total_size counts tensor bytes: a shard may add a header, no more.
    const src = tmpDir();
    writeSafetensors(path.join(src, 'model-00001-of-00001.safetensors'), new Map([['w', { shape: [65536], data: new Float32Array(65536) }]]));
    fs.writeFileSync(
      path.join(src, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: 1000 }, weight_map: { w: 'model-00001-of-00001.safetensors' } }),
    );
    const files = { 'config.json': TINY.files['config.json'], ...Object.fromEntries(fs.readdirSync(src).map((f) => [f, path.join(src, f)])) };
    const sharded = await attempt({ files }, {});
    expect(sharded.err.message).toMatch(
      /model-00001-of-00001.safetensors: is 262\d\d\d bytes, more than 6\d\d\d\d, what model.safetensors.index.json's total_size allows$/,
    );
  }, 20_000);

  it('times out a body with no byte for idleTimeoutMs, and one that takes over fileTimeoutMs; the partial file stays for resuming', async () => {
    const size = fs.statSync(TINY.files['config.json']).size;
    const idle = await attempt(TINY, { hostile: { 'config.json': 'trickle' }, trickleMs: 1000 }, { idleTimeoutMs: 300 });
    expect(idle.err).toBeInstanceOf(DownloadError);
    expect(idle.err.message).toBe(
      `${idle.url('config.json')}: download interrupted after 0 of ${size} bytes (no data for 0.3 s); run again to resume`,
    );
    await hub!.close();

    const cache = tmpDir();
    const slow = await attempt(TINY, { hostile: { 'config.json': 'trickle' }, trickleMs: 20 }, { idleTimeoutMs: 300, fileTimeoutMs: 600 }, cache);
    expect(slow.err.message.replace(/after \d+ of/, 'after N of')).toBe(
      `${slow.url('config.json')}: download interrupted after N of ${size} bytes (took more than 0.6 s); run again to resume`,
    );
    expect(fs.statSync(path.join(slow.dir, '.wavprobe', 'config.json.part')).size).toBeGreaterThan(5);
    await hub!.close();

    const honest = await attempt(TINY, {}, {}, cache);
    expect(honest.err).toBeUndefined();
    expect(same(path.join(honest.dir, 'config.json'), TINY.files['config.json'])).toBe(true);
    expect(left(honest.dir)).toEqual(['.wavprobe/download.json', 'config.json', 'model.safetensors', 'preprocessor_config.json']);
  }, 20_000);

  it('follows only http(s) redirects: file: (or a file: endpoint) is a DownloadError naming the URL', async () => {
    const { err, url } = await attempt(TINY, { hostile: { 'config.json': 'file-redirect' } });
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe(`${url('config.json')}: redirected to file:///etc/passwd; only http and https are followed`);
    const endpoint = await downloadCheckpoint('org/x', { endpoint: 'file:///etc', cacheDir: tmpDir() }).catch((e) => e);
    expect(endpoint).toBeInstanceOf(DownloadError);
    expect(endpoint.message).toBe('file:///etc/org/x/resolve/main/config.json: not an http or https URL');
  }, 20_000);

  it('never caches a file whose length differs from what was announced (Content-Length, X-Linked-Size)', async () => {
    const short = await attempt(TINY, { hostile: { 'config.json': 'short-length' } });
    expect(short.err).toBeInstanceOf(DownloadError);
    expect(short.err.message).toBe(
      `${short.url('config.json')}: the response does not end where its Content-Length says (Parse Error: Expected HTTP/, RTSP/ or ICE/); removed`,
    );
    expect(left(short.dir)).toEqual([]);
    await hub!.close();

    const weights = await attempt(TINY, { hostile: { 'model.safetensors': 'short-length' } }); // from the hub itself: no sha256 to check
    expect(weights.err.message).toBe(
      `${weights.url('model.safetensors')}: the response does not end where its Content-Length says (Parse Error: Expected HTTP/, RTSP/ or ICE/); removed`,
    );
    expect(left(weights.dir)).toEqual(['config.json', 'preprocessor_config.json']);
    await hub!.close();

    const cut = await attempt(TINY, { hostile: { 'config.json': 'truncated' } });
    expect(cut.err.message).toMatch(/config.json: is not valid JSON \(.+\); removed$/);
    expect(left(cut.dir)).toEqual([]);
    await hub!.close();

    const size = fs.statSync(TINY.files['model.safetensors']).size;
    const linked = await attempt(TINY, { badSize: ['model.safetensors'] });
    expect(linked.err.message).toBe(`${linked.url('model.safetensors')}: is ${size} bytes, but the hub announced ${size + 1} (X-Linked-Size)`);
    expect(left(linked.dir)).toEqual(['config.json', 'preprocessor_config.json']);
  }, 20_000);

  it('accepts only plain weight-file names as shards, so bookkeeping (in .wavprobe/) cannot be named', async () => {
    const bad = [
      'wavprobe-download.json',
      '.wavprobe/download.json',
      '../../evil.safetensors',
      '/tmp/evil.safetensors',
      'a\\b.safetensors',
      'nul\u0000.safetensors',
      '.hidden.safetensors',
      'a..safetensors',
      'model.safetensors',
      'shard.bin',
      `${'x'.repeat(250)}.safetensors`,
      'ü.safetensors',
      42,
    ];
    const src = tmpDir();
    fs.writeFileSync(path.join(src, 'record.json'), '{"repo":"org/x","revision":"main","files":[]}');
    for (const shard of bad) {
      fs.writeFileSync(path.join(src, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { w: shard } }));
      const files = {
        'config.json': TINY.files['config.json'],
        'model.safetensors.index.json': path.join(src, 'model.safetensors.index.json'),
        'wavprobe-download.json': path.join(src, 'record.json'),
      };
      const { err, dir, url } = await attempt({ files }, {});
      expect([shard, err?.message]).toEqual([
        shard,
        `${url('model.safetensors.index.json')}: names a shard that is not a plain .safetensors file name: ${JSON.stringify(shard)}`,
      ]);
      expect(hub!.requests.map((r) => path.basename(r.path))).toEqual([
        'config.json',
        'preprocessor_config.json',
        'model.safetensors',
        'model.safetensors.index.json',
      ]);
      expect(left(dir)).toEqual(['config.json', 'model.safetensors.index.json']);
      await hub!.close();
    }
  }, 20_000);
});
