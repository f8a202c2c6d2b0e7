#!/usr/bin/env python3
"""Writes spec/fixtures/weights/: reference values for the weight readers, computed independently with numpy.

  float16_cases.json        float32 inputs, numpy's float16 rounding (bits) and their float32 values; bfloat16 bits
  halves.safetensors        the same float16 / bfloat16 bits as F16 and BF16 tensors (written by hand here)
  <model>.pos_conv.f64.npy  the folded positional-conv weight g·v/‖v‖ of each golden model, float64, HF layout
                            [out, in/groups, K], norm over dims 0 and 1 per kernel tap
  strided_p2.bin            torch.save-style zips written by Python's own pickler (protocol 2 and 4) through a
  strided_p4.bin            stand-in `torch` module: strided views, storage offsets, Half/BFloat16 storages,
                            _rebuild_parameter, a 0-d tensor, an empty tensor, the state dict's _metadata BUILD
  strided_expected.safetensors  what those tensors are (numpy as_strided), F32
  SHA256SUMS

Run from the repository root: python3 tools/make_weight_fixtures.py   (needs numpy; no torch)
"""
import collections
import hashlib
import io
import json
import os
import pickle
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "spec", "fixtures", "golden")
OUT = os.path.join(ROOT, "spec", "fixtures", "weights")
MODELS = ["wav2vec2_base_tiny", "wav2vec2_large_tiny", "hubert_base_tiny", "wavlm_base_tiny", "wavlm_large_tiny"]
NP_DTYPES = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "U16": "<u2"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + b : 8 + n + en], dtype=NP_DTYPES[e["dtype"]]).reshape(e["shape"])
    return out


def write_safetensors(path, tensors):
    """tensors: name -> (dtype string, numpy array whose raw bytes are the data)."""
    header, blobs, off = {}, [], 0
    for name, (dtype, a) in tensors.items():
        b = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def float16_cases():
    rng = np.random.default_rng(7)
    vals = [0.0, -0.0, 1.0, -1.0, 65504.0, 65519.0, 65520.0, 1e6, -1e6, np.inf, -np.inf, np.nan,
            2.0 ** -14, 2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.5, 2.0 ** -26, 3 * 2.0 ** -25, 1e-8, 2.0 ** -14 - 2.0 ** -25,
            1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -11 + 2.0 ** -23, 2047.0 + 0.5, 0.1, 1 / 3]
    vals += list(rng.normal(0, 1, 80)) + list(rng.normal(0, 1e-3, 40)) + list(rng.normal(0, 1e-5, 40)) + list(rng.normal(0, 3e4, 20))
    f32 = np.array(vals, dtype=np.float32)
    with np.errstate(over="ignore"):
        f16 = f32.astype(np.float16)
    bf16 = (f32.view(np.uint32) >> 16).astype(np.uint16)  # truncation: what a BF16 file may hold, any bits are valid
    return {
        "f32_bits": f32.view(np.uint32).tolist(),
        "f16_bits": f16.view(np.uint16).tolist(),
        "f16_as_f32_bits": f16.astype(np.float32).view(np.uint32).tolist(),
        "bf16_bits": bf16.tolist(),
        "bf16_as_f32_bits": (bf16.astype(np.uint32) << 16).tolist(),
    }, f16, bf16


def write_npy_f8(path, a):
    np.save(path, np.ascontiguousarray(a, dtype="<f8"))


def fold_references():
    for m in MODELS:
        t = read_safetensors(os.path.join(GOLDEN, m, "model.safetensors"))
        p = "encoder.pos_conv_embed.conv."
        g = t.get(p + "weight_g", t.get(p + "parametrizations.weight.original0"))
        v = t.get(p + "weight_v", t.get(p + "parametrizations.weight.original1"))
        g = g.astype(np.float64)
        v = v.astype(np.float64)
        w = g * v / np.sqrt((v * v).sum(axis=(0, 1), keepdims=True))
        write_npy_f8(os.path.join(OUT, f"{m}.pos_conv.f64.npy"), w)


# ---- torch.save-style zips without torch -------------------------------------------------------------------
FAKE_TORCH_INIT = '''
class FloatStorage: pass
class HalfStorage: pass
class BFloat16Storage: pass
'''
FAKE_TORCH_UTILS = '''
def _rebuild_tensor_v2(*args): raise RuntimeError("stand-in")
def _rebuild_parameter(*args): raise RuntimeError("stand-in")
'''


class Storage:
    def __init__(self, kind, key, values):
        self.kind, self.key, self.values = kind, key, values  # values: numpy array of the element type


class Tensor:
    def __init__(self, storage, offset, size, stride, parameter=False):
        self.storage, self.offset, self.size, self.stride, self.parameter = storage, offset, tuple(size), tuple(stride), parameter

    def __reduce_ex__(self, proto):
        import torch._utils as tu

        if self.parameter:  # nn.Parameter: the plain tensor inside _rebuild_parameter
            inner = Tensor(self.storage, self.offset, self.size, self.stride)
            return (tu._rebuild_parameter, (inner, False, collections.OrderedDict()))
        return (tu._rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))

    def expected(self):
        vals = self.storage.values
        if self.storage.kind == "BFloat16Storage":
            vals = (vals.astype(np.uint32) << 16).view(np.float32)
        base = vals.astype(np.float32)
        return np.lib.stride_tricks.as_strided(
            base[self.offset :], shape=self.size, strides=[s * base.itemsize for s in self.stride]
        ).copy()


class StatePickler(pickle.Pickler):
    def persistent_id(self, obj):
        import torch

        if isinstance(obj, Storage):
            return ("storage", getattr(torch, obj.kind), obj.key, "cpu", len(obj.values))
        return None


def torch_fixtures():
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "torch"))
    with open(os.path.join(tmp, "torch", "__init__.py"), "w") as f:
        f.write(FAKE_TORCH_INIT)
    with open(os.path.join(tmp, "torch", "_utils.py"), "w") as f:
        f.write(FAKE_TORCH_UTILS)
    sys.path.insert(0, tmp)
    rng = np.random.default_rng(11)
    s0 = Storage("FloatStorage", "0", rng.normal(size=12).astype(np.float32))
    s1 = Storage("HalfStorage", "1", rng.normal(size=6).astype(np.float16))
    s2 = Storage("BFloat16Storage", "2", (rng.normal(size=6).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16))
    s3 = Storage("FloatStorage", "3", rng.normal(size=5).astype(np.float32))
    tensors = collections.OrderedDict(
        [
            ("contiguous", Tensor(s0, 0, (3, 4), (4, 1))),
            ("transposed", Tensor(s0, 0, (4, 3), (1, 4))),
            ("offset_slice", Tensor(s0, 5, (2, 3), (4, 1))),
            ("every_other", Tensor(s0, 1, (2, 2), (6, 2))),
            ("broadcast", Tensor(s3, 2, (3, 2), (0, 1))),
            ("scalar", Tensor(s3, 4, (), ())),
            ("empty", Tensor(s3, 0, (0, 4), (4, 1))),
            ("half", Tensor(s1, 0, (2, 3), (3, 1))),
            ("half_transposed", Tensor(s1, 0, (3, 2), (1, 3))),
            ("bf16", Tensor(s2, 1, (5,), (1,))),
            ("parameter", Tensor(s3, 0, (5,), (1,), parameter=True)),
        ]
    )
    expected = {k: ("F32", t.expected()) for k, t in tensors.items()}
    write_safetensors(os.path.join(OUT, "strided_expected.safetensors"), expected)
    for proto, prefix in [(2, "archive"), (4, "some_model")]:
        state = collections.OrderedDict(tensors)
        state._metadata = collections.OrderedDict([("", {"version": 1}), ("encoder", {"version": 1})])
        buf = io.BytesIO()
        StatePickler(buf, protocol=proto).dump(state)
        path = os.path.join(OUT, f"strided_p{proto}.bin")
        entries = [(f"{prefix}/data.pkl", buf.getvalue()), (f"{prefix}/byteorder", b"little")]
        entries += [(f"{prefix}/data/{s.key}", s.values.tobytes()) for s in (s0, s1, s2, s3)]
        entries += [(f"{prefix}/version", b"3\n")]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            for name, data in entries:
                z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)  # fixed time: reproducible
    sys.path.remove(tmp)


def main():
    os.makedirs(OUT, exist_ok=True)
    cases, f16, bf16 = float16_cases()
    with open(os.path.join(OUT, "float16_cases.json"), "w") as f:
        json.dump(cases, f)
    write_safetensors(os.path.join(OUT, "halves.safetensors"), {"f16": ("F16", f16), "bf16": ("BF16", bf16)})
    fold_references()
    torch_fixtures()
    names = sorted(n for n in os.listdir(OUT) if n != "SHA256SUMS")
    with open(os.path.join(OUT, "SHA256SUMS"), "w") as f:
        for n in names:
            with open(os.path.join(OUT, n), "rb") as g:
                f.write(f"{hashlib.sha256(g.read()).hexdigest()}  {n}\n")


if __name__ == "__main__":
    main()
