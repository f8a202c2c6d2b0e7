import * as fs from 'fs';
import * as path from 'path';
import { DownloadError, UsageError } from '../../lib/errors';
import { readCheckpoint } from '../../lib/weights/checkpoint';
import { DOWNLOAD_RECORD, downloadCheckpoint, hubCacheDir, hubUrl, looksLikeHubId, parseHubId } from '../../lib/weights/hub';
import { readSafetensors, writeSafetensors } from '../../lib/weights/safetensors';
import { FakeHub, FakeRepo, startFakeHub } from './fakehub';
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
    for (const f of ['config.json', 'preprocessor_config.json', 'model.safetensors']) expect([f, same(path.join(dir, f), path.join(goldenDir('wav2vec2_base_tiny'), f))]).toEqual([f, true]);
    expect(fs.existsSync(path.join(dir, 'pytorch_model.bin'))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, DOWNLOAD_RECORD), 'utf8'))).toMatchObject({ repo: 'org/w2v', revision: 'main', files: ['config.json', 'preprocessor_config.json', 'model.safetensors'] });
    readCheckpoint(dir);
    hub.requests.splice(0);
    expect(await downloadCheckpoint('org/w2v', { endpoint: hub.endpoint, token: 'sekrit', cacheDir: cache })).toBe(dir);
    expect(hub.requests).toEqual([]);
  });

  it('resumes an interrupted download with a Range request; the result is byte-identical', async () => {
    hub = await startFakeHub({ repos: { 'org/wavlm@v1': golden('wavlm_large_tiny', ALL) }, cutFirst: ['model.safetensors'] });
    const cache = tmpDir();
    const opts = { endpoint: hub.endpoint, cacheDir: cache };
    await expect(downloadCheckpoint('org/wavlm@v1', opts)).rejects.toThrow(/model.safetensors: download interrupted after \d+ of 119640 bytes .*run again to resume/);
    const dir = hubCacheDir(parseHubId('org/wavlm@v1'), cache);
    const part = path.join(dir, 'model.safetensors.part');
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
    expect(missing.message).toBe(`${hub.endpoint}/org/absent/resolve/main/config.json: HTTP 404: no such repository or revision, or it has no config.json`);
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
      for (const [k, v] of [['HF_ENDPOINT', saved.e], ['HF_TOKEN', saved.t]] as const) {
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
    fs.writeFileSync(path.join(src, 'model.safetensors.index.json'), JSON.stringify({ weight_map: Object.fromEntries(names.map((n, i) => [n, shardOf(i)])) }));
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
    hub = await startFakeHub({ repos: { 'org/bin@main': golden('hubert_base_tiny', ['config.json', 'preprocessor_config.json', 'pytorch_model.bin']) } });
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
    await expect(downloadCheckpoint('org/bad', { endpoint: hub.endpoint, cacheDir: cache })).rejects.toThrow(/model.safetensors: downloaded file does not match the sha256/);
    expect(fs.readdirSync(hubCacheDir(parseHubId('org/bad'), cache)).sort()).toEqual(['config.json', 'preprocessor_config.json']);
    await expect(downloadCheckpoint('org/empty', { endpoint: hub.endpoint, cacheDir: cache })).rejects.toThrow(/org\/empty: no weight file \(looked for model.safetensors, /);
  });
});
