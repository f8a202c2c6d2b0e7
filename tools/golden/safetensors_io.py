"""safetensors read/write in the layout of the committed fixtures (all F32): a compact JSON header with the tensors
sorted by name and `__metadata__` last, padded with spaces to a multiple of 8 bytes, then the data in header
order."""
import json

import numpy as np


def read(path):
    """-> ({name: float32 array}, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", f"{path}: {name} is {entry['dtype']}"
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(raw[8 + n + begin : 8 + n + end], dtype="<f4").reshape(entry["shape"]).copy()
    return tensors, metadata


def write(path, tensors, metadata):
    """tensors: {name: array-like of float32 values}; metadata: {str: str}."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        blobs.append(a.tobytes())
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(blobs[-1])]}
        offset += len(blobs[-1])
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))
