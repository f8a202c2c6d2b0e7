#!/usr/bin/env python3
"""PyTorch peer of `wavprobe bench forward`: the same architecture (torchaudio's HF-free wav2vec2/WavLM builders, random
weights), input length and thread count. Prints one JSON object like ours. Needs Debian's python3-torch and
python3-torchaudio (0.13+) and an optimised BLAS (apt-get install libopenblas0-pthread: with only Debian's reference
libblas3, torch's matmuls run ~15x slower). Run by bench/peers/compare.ts; on demand, never in CI.

    python3 bench/peers/torch_forward.py --arch wav2vec2-base --seconds 10 --threads 2 --runs 3 [--layers 7] [--parts]

--parts adds one more forward timed by module (conv feature encoder, positional conv, the attention and feed-forward
blocks summed over layers; each with its own linear layers) as "parts_s", to set beside `wavprobe bench kernels`.
"""
import argparse
import ctypes
import json
import statistics
import time

import torch
import torchaudio

BUILDERS = {
    'wav2vec2-base': lambda: torchaudio.models.wav2vec2_base(),
    'wavlm-base': lambda: torchaudio.models.wavlm_base(),
    # XLS-R 300M has the large-lv60k shape: layer-norm conv encoder with bias, pre-norm, 24 × 1024.
    'xlsr-300m': lambda: torchaudio.models.wav2vec2_large_lv60k(),
    'xlsr-1b': lambda: torchaudio.models.wav2vec2_model(
        extractor_mode='layer_norm', extractor_conv_layer_config=None, extractor_conv_bias=True,
        encoder_embed_dim=1280, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=128, encoder_pos_conv_groups=16,
        encoder_num_layers=48, encoder_num_heads=16, encoder_attention_dropout=0.0, encoder_ff_interm_features=5120,
        encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=True, encoder_layer_drop=0.0,
        aux_num_out=None),
}


def blas():
    """The BLAS torch loaded and its thread count as that library reports it (OPENBLAS_NUM_THREADS, read at load)."""
    with open('/proc/self/maps') as f:
        libs = sorted({line.split()[-1] for line in f if 'blas' in line.rsplit('/', 1)[-1]})
    for lib in libs:
        if 'openblas' in lib:
            return f'{"/".join(lib.split("/")[-2:])} × {ctypes.CDLL(lib).openblas_get_num_threads()} threads'
    return ', '.join(lib.rsplit('/', 1)[-1] for lib in libs) or 'no BLAS loaded'


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--arch', default='wav2vec2-base', choices=sorted(BUILDERS))
    p.add_argument('--seconds', type=float, default=10)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--layers', type=int, default=None)
    p.add_argument('--parts', action='store_true')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.arch == 'wavlm-base' and not hasattr(torchaudio.models, 'wavlm_base'):
        raise SystemExit(f'torchaudio {torchaudio.__version__} has no WavLM builder (torchaudio >= 2.0 has); '
                         'Debian bookworm ships 0.13, so wavlm-base has no peer there')
    model = BUILDERS[a.arch]().eval()
    x = 0.1 * torch.randn(1, int(round(a.seconds * 16000)))

    def forward():
        with torch.inference_mode():
            if a.layers is None:
                return model(x)
            return model.extract_features(x, num_layers=a.layers)

    forward()  # warm-up
    seconds = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        forward()
        seconds.append(time.perf_counter() - t0)
    med = statistics.median(seconds)
    out = {'arch': a.arch, 'backend': f'torch {torch.__version__}', 'threads': torch.get_num_threads(), 'blas': blas(),
           'audio_s': a.seconds, 'runs': a.runs, 'median_s': round(med, 3), 'min_s': round(min(seconds), 3),
           'rtf': round(med / a.seconds, 3)}
    if a.parts:
        out['parts_s'] = parts(model, forward)
    print(json.dumps(out))


def parts(model, forward):
    """Seconds of one forward by module (forward hooks), summed over the transformer's layers."""
    spent = {}
    transformer = model.encoder.transformer
    modules = [('feature_encoder', model.feature_extractor), ('pos_conv', transformer.pos_conv_embed)]
    modules += [(name, getattr(layer, name)) for layer in transformer.layers for name in ('attention', 'feed_forward')]
    for name, m in modules:
        m.register_forward_pre_hook(lambda m, i: setattr(m, 'started', time.perf_counter()))
        m.register_forward_hook(lambda m, i, o, name=name: spent.__setitem__(name, spent.get(name, 0) + time.perf_counter() - m.started))
    t0 = time.perf_counter()
    forward()
    spent['total'] = time.perf_counter() - t0
    return {name: round(s, 3) for name, s in spent.items()}


if __name__ == '__main__':
    main()
