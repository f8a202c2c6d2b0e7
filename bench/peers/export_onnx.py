#!/usr/bin/env python3
"""Exports the architecture torch_forward.py times (torchaudio's builder, torch's random init) to ONNX, for the
onnxruntime peers of bench/peers/compare.ts. One fixed input length (the peers time one length); with --layers k the
graph ends at encoder layer k. On demand, never in CI; compare.ts calls it and keeps the file in a cache directory.

    /usr/bin/python3 bench/peers/export_onnx.py --arch wav2vec2-base --seconds 10 [--layers 7] --out FILE.onnx
"""
import argparse
import os

import torch

from torch_forward import BUILDERS


class UpToLayer(torch.nn.Module):
    """The model's output after encoder layer k (extract_features stops there), or its full forward."""

    def __init__(self, model, layers):
        super().__init__()
        self.model = model
        self.layers = layers

    def forward(self, x):
        if self.layers is None:
            return self.model(x)[0]
        return self.model.extract_features(x, num_layers=self.layers)[0][-1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--arch', default='wav2vec2-base', choices=sorted(BUILDERS))
    p.add_argument('--seconds', type=float, default=10)
    p.add_argument('--layers', type=int, default=None)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    torch.manual_seed(1)
    model = UpToLayer(BUILDERS[a.arch]().eval(), a.layers)
    x = 0.1 * torch.randn(1, int(round(a.seconds * 16000)))
    tmp = f'{a.out}.tmp-{os.getpid()}'
    try:
        with torch.inference_mode(False), torch.no_grad():
            # Opset 17: LayerNormalization is one op (onnxruntime fuses the older decomposition too).
            torch.onnx.export(model, (x,), tmp, input_names=['input_values'], output_names=['last_hidden_state'],
                              opset_version=17, do_constant_folding=True)
        os.replace(tmp, a.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


if __name__ == '__main__':
    main()
