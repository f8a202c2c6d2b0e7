#!/usr/bin/env python3
"""Reference LFCC features for spec/features/lfcc.spec.ts (numpy only; run once, output committed).

An independent, vectorised reading of the ASVspoof 2019 LFCC-GMM baseline front-end (MATLAB extract_lfcc with
Window_Length=20 ms, NFFT=512, No_Filter=20, then deltas(x, 3) twice):
  pre-emphasis [1, -0.97]; MATLAB buffer(y, L, L/2, 'nodelay') framing (zero-padded last frame); symmetric Hamming;
  |rfft_512|^2; trimf filters on linspace(0, fs/2, 22) evaluated at linspace(0, fs/2, 257); log10(. + eps);
  orthonormal DCT-II, all 20 coefficients; deltas d[t] = c[t+1] - c[t-1] with edge frames repeated.

Usage: python3 tools/lfcc_reference.py [OUT_DIR]   (default spec/fixtures/lfcc)
Writes <case>_signal.npy [N] (float32 input), <case>_frames.npy [T, 60], <case>_mean.npy [60],
<case>_meanstd.npy [120] (mean then population std over frames), cases.json and SHA256SUMS.
"""
import hashlib
import json
import os
import sys

import numpy as np

FS = 16000
WIN = 320  # 20 ms
OVERLAP = WIN // 2
NFFT = 512
NFILT = 20


def test_signal(n, seed):
    """A speech-like deterministic signal: two harmonics series, a chirp, an envelope, a little noise."""
    t = np.arange(n) / FS
    rng = np.random.default_rng(seed)
    f0 = 140 + 30 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / FS
    voiced = sum(np.sin(h * phase) / h for h in range(1, 12))
    chirp = np.sin(2 * np.pi * (200 * t + 0.5 * 11000 * t ** 2))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t + 0.3) ** 2
    x = 0.25 * env * voiced + 0.1 * chirp + 0.02 * rng.standard_normal(n)
    return x.astype(np.float32)


def frame_starts(n):
    """MATLAB buffer(..., 'nodelay'): keep starting frames while a frame holds a sample the previous one did not."""
    hop = WIN - OVERLAP
    starts = [0]
    while starts[-1] + hop + OVERLAP < n:
        starts.append(starts[-1] + hop)
    return np.array(starts)


def triangles():
    f = np.linspace(0, FS / 2, NFFT // 2 + 1)
    edges = np.linspace(0, FS / 2, NFILT + 2)
    return np.stack([np.interp(f, edges[i:i + 3], [0.0, 1.0, 0.0], left=0.0, right=0.0) for i in range(NFILT)], axis=1)


def dct_ortho(m):
    k = np.arange(m)[:, None]
    n = np.arange(m)[None, :]
    d = np.cos(np.pi / m * (n + 0.5) * k) * np.sqrt(2.0 / m)
    d[0] /= np.sqrt(2.0)
    assert np.allclose(d @ d.T, np.eye(m)), 'DCT-II matrix is not orthonormal'
    return d


def deltas3(x):
    padded = np.concatenate([x[:1], x, x[-1:]], axis=0)
    return padded[2:] - padded[:-2]


def lfcc(x):
    x = x.astype(np.float64)
    y = x.copy()
    y[1:] -= 0.97 * x[:-1]
    starts = frame_starts(len(y))
    y = np.concatenate([y, np.zeros(max(0, starts[-1] + WIN - len(y)))])
    frames = np.stack([y[s:s + WIN] for s in starts]) * np.hamming(WIN)  # [T, WIN]
    power = np.abs(np.fft.rfft(frames, n=NFFT, axis=1)) ** 2  # [T, 257]
    logfb = np.log10(power @ triangles() + np.finfo(np.float64).eps)  # [T, 20]
    static = logfb @ dct_ortho(NFILT).T  # [T, 20]
    d1 = deltas3(static)
    d2 = deltas3(d1)
    return np.concatenate([static, d1, d2], axis=1)  # [T, 60]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join('spec', 'fixtures', 'lfcc')
    os.makedirs(out, exist_ok=True)
    # long: many frames and a zero-padded tail; short: one frame shorter than the window; tiny: under the overlap
    cases = {'long': (8077, 1), 'short': (250, 2), 'tiny': (100, 3)}
    meta = {}
    for name, (n, seed) in cases.items():
        x = test_signal(n, seed)
        feats = lfcc(x)
        mean = feats.mean(axis=0)
        std = feats.std(axis=0)
        np.save(os.path.join(out, f'{name}_signal.npy'), x)
        np.save(os.path.join(out, f'{name}_frames.npy'), feats.astype(np.float32))
        np.save(os.path.join(out, f'{name}_mean.npy'), mean.astype(np.float32))
        np.save(os.path.join(out, f'{name}_meanstd.npy'), np.concatenate([mean, std]).astype(np.float32))
        meta[name] = {'samples': n, 'sample_rate': FS, 'frames': int(feats.shape[0]), 'dims': int(feats.shape[1])}
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    files = sorted(f for f in os.listdir(out) if f != 'SHA256SUMS')
    with open(os.path.join(out, 'SHA256SUMS'), 'w') as f:
        for name in files:
            with open(os.path.join(out, name), 'rb') as g:
                f.write(f'{hashlib.sha256(g.read()).hexdigest()}  {name}\n')
    print(json.dumps(meta))


if __name__ == '__main__':
    main()
