#!/usr/bin/python3
"""Writes a golden fixture tree like spec/fixtures/golden: per model config.json, preprocessor_config.json,
model.safetensors, pytorch_model.bin (where the manifest lists one), manifest.json and cases/*.safetensors; and
index.json. The models are those of the --weights-from tree's index.json, with its config.json and
preprocessor_config.json; the cases are CASES below. The expected outputs come from reference.py.

  --weights-from DIR  the source tree (default spec/fixtures/golden). Its weights are reused, and its input
                      waveforms are read back from its case files: the committed ones were made from no recorded
                      seed, so they cannot be regenerated. A model or case that DIR lacks gets seeded random
                      weights or waveforms (seed 0), so a model or case can be added.
  --seed S            new models: random weights and synthetic waveforms from seed S for every model and case
  --out DIR           where to write (the source tree itself only when that is what you mean)

Usage (Debian's python3-torch 1.13 / python3-torchaudio 0.13 / python3-numpy; see README.md):
  /usr/bin/python3 tools/golden/generate.py --out /tmp/golden
  /usr/bin/python3 tools/golden/generate.py --seed 7 --out /tmp/golden-new
"""
import argparse
import collections
import json
import os
import shutil
import zlib

import numpy as np
import torch

import reference
import safetensors_io

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "spec", "fixtures", "golden")
SAMPLE_RATE = 16000
ONE = "raw waveform fed directly as input_values; model called without attention_mask."
CASES = {  # name -> (waveform lengths, description)
    "single_short": ([8000], "One utterance (~0.5 s), " + ONE),
    "single_long": ([20800], "One utterance (~1.3 s), " + ONE),
    "batch_padded": (
        [20800, 11111],
        "Batch of two raw waveforms of different length, right-padded with 0.0; "
        "model called WITH the sample-level attention_mask.",
    ),
    "processor": ([9876, 20800], None),  # described from preprocessor_config.json, see processor_description
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights-from", default=os.path.normpath(GOLDEN), metavar="DIR")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--out", required=True, metavar="DIR")
    args = parser.parse_args()
    with open(os.path.join(args.weights_from, "index.json")) as f:
        index = json.load(f)
    for entry in index["models"]:
        print(entry["name"], flush=True)
        generate_model(args.weights_from, args.out, entry["name"], args.seed)
    write_json(os.path.join(args.out, "index.json"), index)


def generate_model(src_root, out_root, name, seed):
    """One model folder. Weights and waveforms come from the source folder unless `seed` is given or the source
    has none (a model or case being added): then they are random, from `seed` or 0."""
    src, dst = os.path.join(src_root, name), os.path.join(out_root, name)
    fresh = 0 if seed is None else seed
    os.makedirs(os.path.join(dst, "cases"), exist_ok=True)
    if not os.path.samefile(src_root, out_root):  # the configs are inputs, copied as they are
        for file in ["config.json", "preprocessor_config.json"]:
            shutil.copyfile(os.path.join(src, file), os.path.join(dst, file))
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(src, "preprocessor_config.json")) as f:
        prep = json.load(f)
    # which weight files and weight-norm names the model has (a new model: safetensors only, weight_g/weight_v)
    source = {"files": ["config.json", "preprocessor_config.json", "model.safetensors"],
              "pos_conv_weight_norm_keys": "weight_g/weight_v"}
    if os.path.exists(os.path.join(src, "manifest.json")):
        with open(os.path.join(src, "manifest.json")) as f:
            source = json.load(f)

    model = reference.build(cfg)
    names = reference.hf_names(cfg, source["pos_conv_weight_norm_keys"])
    if seed is None and os.path.exists(os.path.join(src, "model.safetensors")):
        tensors, _ = safetensors_io.read(os.path.join(src, "model.safetensors"))
        assert sorted(tensors) == sorted(names), f"{name}: unexpected parameter names"
        weights = {k: torch.from_numpy(tensors[k]) for k in names}
    else:
        weights = random_weights(model, cfg, names, fresh, name)
    reference.load(model, weights)
    safetensors_io.write(os.path.join(dst, "model.safetensors"), weights, {"format": "pt"})
    if "pytorch_model.bin" in source["files"]:
        # torch 1.13 names the zip's folder after the file ("pytorch_model/")
        torch.save(collections.OrderedDict((k, weights[k]) for k in names), os.path.join(dst, "pytorch_model.bin"))

    cases = []
    for case, (lengths, description) in CASES.items():
        path = os.path.join(src, "cases", case + ".safetensors")
        if seed is None and os.path.exists(path):
            waves = committed_waves(path, case)
        else:
            keys = [zlib.crc32(f"{name}/{case}/{i}".encode()) for i in range(len(lengths))]
            waves = [voice(n, np.random.default_rng([fresh, key])) for n, key in zip(lengths, keys)]
        cases.append(write_case(dst, case, description or processor_description(prep), waves, model, cfg, prep))

    write_json(os.path.join(dst, "manifest.json"), {
        "name": name,
        "model_type": cfg["model_type"],
        "architecture": cfg["architectures"][0],
        "files": source["files"],
        "pos_conv_weight_norm_keys": source["pos_conv_weight_norm_keys"],
        "num_hidden_states": cfg["num_hidden_layers"] + 1,
        "has_extract_features": cfg["model_type"] != "hubert",
        "cases": cases,
    })


def write_case(dst, case, description, waves, model, cfg, prep):
    """Runs one case, writes cases/<case>.safetensors, returns its manifest entry."""
    if case == "processor":
        values, mask = reference.feature_extractor(waves, prep)
    elif case == "batch_padded":  # right-padded with 0.0, called with the sample mask
        n = max(len(w) for w in waves)
        values = np.stack([np.pad(w, (0, n - len(w))) for w in waves])
        mask = np.stack([np.pad(np.ones(len(w), np.int32), (0, n - len(w))) for w in waves])
    else:
        values, mask = waves[0][None, :], None
    tensors = {"input_values": values}
    if mask is not None:
        tensors["attention_mask"] = mask.astype(np.float32)
    if case == "processor":
        tensors.update({f"raw_audio_{i}": w for i, w in enumerate(waves)})
    outputs, valid_frames = reference.forward(
        model, cfg, torch.from_numpy(values), None if mask is None else torch.from_numpy(mask)
    )
    tensors.update({k: v.numpy() for k, v in outputs.items()})

    batch, samples = values.shape
    valid_samples = [samples] * batch if mask is None else mask.sum(-1).tolist()
    with_mask = mask is not None
    safetensors_io.write(os.path.join(dst, "cases", case + ".safetensors"), tensors, {
        "case": case,
        "description": description,
        "model_called_with_attention_mask": "true" if with_mask else "false",
        "batch_size": str(batch),
        "num_samples": str(samples),
        "num_frames": str(outputs["conv_features"].shape[1]),
        "valid_samples": str(valid_samples),
        "valid_frames": str(valid_frames),
        "num_hidden_states": str(cfg["num_hidden_layers"] + 1),
    })
    return {
        "file": f"cases/{case}.safetensors",
        "description": description,
        "model_called_with_attention_mask": with_mask,
        "valid_samples": valid_samples,
        "valid_frames": valid_frames,
        "tensors": {k: list(v.shape) for k, v in tensors.items()},
    }


def processor_description(prep):
    flags = f"do_normalize={prep['do_normalize']}, return_attention_mask={prep['return_attention_mask']}"
    given = (
        "input_values and attention_mask"
        if prep["return_attention_mask"]
        else "input_values only; no attention_mask, so padding is treated as signal"
    )
    return (
        "Two raw waveforms passed through Wav2Vec2FeatureExtractor(padding=True) configured by "
        f"preprocessor_config.json ({flags}); the model is called with exactly what the feature extractor "
        f"returns ({given})."
    )


def committed_waves(path, case):
    """The unpadded waveforms a committed case was made from."""
    tensors, _ = safetensors_io.read(path)
    if case == "processor":
        return [tensors["raw_audio_0"], tensors["raw_audio_1"]]
    values = tensors["input_values"]
    lengths = tensors["attention_mask"].sum(-1).astype(int) if "attention_mask" in tensors else [values.shape[1]]
    return [row[:n] for row, n in zip(values, lengths)]


def voice(n, rng):
    """A voiced-speech-like test waveform: 8 harmonics of a wobbling f0 (90-250 Hz) under a syllable-rate
    envelope, plus a little noise, peak 0.5 (the committed waveforms' level)."""
    t = np.arange(n) / SAMPLE_RATE
    f0 = rng.uniform(90, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    x = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 9))
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(2, 5) * t)
    x += 0.05 * rng.standard_normal(n)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def random_weights(model, cfg, names, seed, model_name):
    """Seeded random weights. Every norm scale and bias is random too (not 1 and 0), so that a skipped or swapped
    norm shows in the outputs; scales as in the committed models."""
    g = torch.Generator().manual_seed(seed * 2**32 + zlib.crc32(model_name.encode()))
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    weights = {}
    for name in names:
        shape = (cfg["hidden_size"],) if name == "masked_spec_embed" else shapes[reference.torchaudio_name(name)]
        fan_in = int(np.prod(shape[1:]))
        if name == "masked_spec_embed":  # HF's own init
            w = torch.rand(shape, generator=g)
        elif name.endswith(("weight_g", "original0")):  # weight-norm magnitude
            w = 0.5 + torch.rand(shape, generator=g)
        elif name.endswith(("weight_v", "original1", "rel_attn_embed.weight")):
            w = torch.randn(shape, generator=g)
        elif name.endswith(("norm.weight", "gru_rel_pos_const")):
            w = 0.7 + 0.6 * torch.rand(shape, generator=g)
        elif name.endswith(".bias"):
            w = 0.1 * torch.randn(shape, generator=g)
        elif len(shape) == 3:  # conv filters: He init keeps the GELU stack's scale
            w = torch.randn(shape, generator=g) * (2 / fan_in) ** 0.5
        else:  # linear [out, in]
            w = torch.randn(shape, generator=g) / fan_in**0.5
        weights[name] = w
    return weights


def write_json(path, value):
    with open(path, "w") as f:
        f.write(json.dumps(value, indent=2) + "\n")


if __name__ == "__main__":
    main()
