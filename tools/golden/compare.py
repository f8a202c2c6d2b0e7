#!/usr/bin/python3
"""Compares a regenerated fixture tree with the committed one (or any two trees), file by file.

  /usr/bin/python3 tools/golden/compare.py /tmp/golden [spec/fixtures/golden]

Case files: the safetensors headers (names, dtypes, shapes, offsets, __metadata__) must be equal; each file is
reported bit-identical or with its largest |new - committed| over all its tensors. index.json and every other file
of the model folders (configs, weights, manifest) are compared byte for byte; the tree's README.md and SHA256SUMS
are not generated. Exit status 1 if anything differs by more than --tolerance (default 1e-6, float noise).
"""
import argparse
import json
import os

import numpy as np

import safetensors_io
from generate import GOLDEN


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("new")
    parser.add_argument("committed", nargs="?", default=os.path.normpath(GOLDEN))
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    failed = False
    with open(os.path.join(args.committed, "index.json")) as f:
        models = [m["name"] for m in json.load(f)["models"]]
    files = ["index.json"]
    for m in models:
        files += [os.path.join(m, f) for f in sorted(os.listdir(os.path.join(args.committed, m)))]
    for rel in files:
        if rel.endswith("cases"):
            for case in sorted(os.listdir(os.path.join(args.committed, rel))):
                new, old = (os.path.join(root, rel, case) for root in (args.new, args.committed))
                failed |= compare_case(new, old, os.path.join(rel, case), args.tolerance)
        else:
            same = read_bytes(os.path.join(args.new, rel)) == read_bytes(os.path.join(args.committed, rel))
            print(f"{rel:50s} {'bytes identical' if same else 'BYTES DIFFER'}")
            failed |= not same
    raise SystemExit(1 if failed else 0)


def compare_case(new_path, old_path, name, tolerance):
    """Prints one line for the case; True if it fails."""
    if not os.path.exists(new_path):
        print(f"{name:50s} MISSING")
        return True
    if header(new_path) != header(old_path):  # names, shapes, offsets or __metadata__
        print(f"{name:50s} HEADER DIFFERS")
        return True
    new, _ = safetensors_io.read(new_path)
    old, _ = safetensors_io.read(old_path)
    diffs = {k: float(np.max(np.abs(new[k].astype(np.float64) - old[k]))) for k in old}
    worst = max(diffs, key=diffs.get)
    identical = read_bytes(new_path) == read_bytes(old_path)
    verdict = "bit-identical" if identical else f"max |diff| {diffs[worst]:.3g} ({worst})"
    print(f"{name:50s} header identical, {verdict}")
    return diffs[worst] > tolerance


def header(path):
    raw = read_bytes(path)
    return raw[: 8 + int.from_bytes(raw[:8], "little")]


def read_bytes(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read()


if __name__ == "__main__":
    main()
