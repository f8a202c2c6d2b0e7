#!/usr/bin/python3
"""A model directory's forward pass in float64 (tools/golden/reference.py: torchaudio's components with HF's
semantics), for bench/numerics/compare.ts: reads input_values as raw float32 [N] from --input, writes every hidden
state as raw float32 [T, H] (hidden_states_I.f32) and shapes.json into --out.

  /usr/bin/python3 bench/numerics/forward64.py --model DIR --input /tmp/x.f32 --out /tmp/ref
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "golden"))
import reference  # noqa: E402
import safetensors_io  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    with open(os.path.join(a.model, "config.json")) as f:
        cfg = json.load(f)
    model = reference.build(cfg)
    tensors, _ = safetensors_io.read(os.path.join(a.model, "model.safetensors"))
    weights = {k: torch.from_numpy(v) for k, v in tensors.items()}
    for k in [k for k in weights if k.endswith("pos_conv_embed.conv.weight")]:
        # a folded weight norm (as wavprobe writes it) back into g and v: g·v/|v| (norm over dims 0, 1) is the weight
        w = weights.pop(k)
        weights[k + "_v"], weights[k + "_g"] = w, w.double().norm(dim=(0, 1), keepdim=True).float()
    reference.load(model, weights)
    x = torch.from_numpy(np.fromfile(a.input, dtype=np.float32))[None, :]
    out, _ = reference.forward(model, cfg, x)
    os.makedirs(a.out, exist_ok=True)
    shapes = {}
    for k, v in out.items():
        if k.startswith("hidden_states_"):
            v[0].numpy().astype(np.float32).tofile(os.path.join(a.out, k + ".f32"))
            shapes[k] = list(v[0].shape)
    with open(os.path.join(a.out, "shapes.json"), "w") as f:
        json.dump(shapes, f)


main()
