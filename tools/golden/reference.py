"""The reference forward pass: Hugging Face Wav2Vec2Model / HubertModel / WavLMModel semantics, in inference mode,
built from torchaudio 0.13's wav2vec2 components (PyTorch 1.13).

torchaudio's components compute what HF computes, operation for operation (conv stack, feature projection,
weight-normed positional conv with SamePad, post-norm and pre-norm ("stable") layers, attention with the
padded keys masked). What torchaudio 0.13 lacks is written here, following HF's modeling_wav2vec2 / _hubert /
_wavlm:
  * `layer_norm_eps`: torchaudio's LayerNorms all use 1e-5; HF uses config.layer_norm_eps everywhere except in
    the conv stack (build).
  * hidden_states: torchaudio has no HF-style tuple; `forward` collects it (the encoder's final norm goes on the
    last entry only in stable models).
  * `extract_features` (the projection's LayerNorm output), which torchaudio does not return.
  * WavLM: torchaudio 0.13 has no WavLM. WavLMSelfAttention is HF's WavLMAttention: the gated relative position
    bias, and F.multi_head_attention_forward called exactly as HF calls it.
  * HF's Wav2Vec2FeatureExtractor (feature_extractor below), in numpy as HF does it.
  * float64: the committed expected tensors are float64 computations rounded to float32. This reproduces all of
    them bit for bit; a float32 run differs in most elements, by up to ~1e-5 (build, forward).
  * HF checkpoint names <-> torchaudio names (torchaudio_name), and HF's parameter order for pytorch_model.bin
    (hf_names).
"""
import math

import numpy as np
import torch
import torchaudio
from torch import nn

# ---------------------------------------------------------------------------------------------------------------
# Parameter names


# The positional conv's weight-norm g and v, by the manifest's "pos_conv_weight_norm_keys": HF with torch >= 2.1
# saves the parametrization names (wavlm_large_tiny has them), older HF the weight_norm hook's.
POS_CONV_NORM = {
    "weight_g/weight_v": ("weight_g", "weight_v"),
    "parametrizations.weight.original0/original1": (
        "parametrizations.weight.original0",
        "parametrizations.weight.original1",
    ),
}


def hf_names(cfg, norm_keys):
    """Every parameter of a bare HF *Model checkpoint, in the order of HF's module __init__ code (the order of the
    committed pytorch_model.bin files)."""
    names = ["masked_spec_embed"]
    for i in range(len(cfg["conv_dim"])):
        p = f"feature_extractor.conv_layers.{i}."
        names += [p + "conv.weight"] + ([p + "conv.bias"] if cfg["conv_bias"] else [])
        if cfg["feat_extract_norm"] == "layer" or i == 0:
            names += [p + "layer_norm.weight", p + "layer_norm.bias"]
    names += ["feature_projection.layer_norm.weight", "feature_projection.layer_norm.bias"]
    names += ["feature_projection.projection.weight", "feature_projection.projection.bias"]
    g, v = POS_CONV_NORM[norm_keys]
    names += ["encoder.pos_conv_embed.conv." + k for k in ["bias", g, v]]
    names += ["encoder.layer_norm.weight", "encoder.layer_norm.bias"]
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layers.{l}."
        for proj in ["k_proj", "v_proj", "q_proj", "out_proj"]:
            names += [f"{p}attention.{proj}.weight", f"{p}attention.{proj}.bias"]
        if cfg["model_type"] == "wavlm":
            names += [p + "attention.gru_rel_pos_const"]
            names += [p + "attention.gru_rel_pos_linear.weight", p + "attention.gru_rel_pos_linear.bias"]
            if l == 0:
                names += [p + "attention.rel_attn_embed.weight"]
        names += [p + "layer_norm.weight", p + "layer_norm.bias"]
        for dense in ["intermediate_dense", "output_dense"]:
            names += [f"{p}feed_forward.{dense}.weight", f"{p}feed_forward.{dense}.bias"]
        names += [p + "final_layer_norm.weight", p + "final_layer_norm.bias"]
    return names


def torchaudio_name(hf):
    """HF name -> name in the torchaudio model built below (None: not used at inference)."""
    if hf == "masked_spec_embed":
        return None
    hf = hf.replace("parametrizations.weight.original0", "weight_g")
    hf = hf.replace("parametrizations.weight.original1", "weight_v")
    if hf.startswith("feature_projection."):
        return "encoder." + hf
    if hf.startswith("encoder."):
        return "encoder.transformer." + hf[len("encoder.") :]
    return hf  # feature_extractor.* is named alike


# ---------------------------------------------------------------------------------------------------------------
# Model


class WavLMSelfAttention(nn.Module):
    """HF's WavLMAttention (inference). Takes the place of torchaudio's SelfAttention in a WavLM encoder layer;
    torchaudio's EncoderLayer hands it its `attention_mask` argument, which for WavLM carries
    (key_padding_mask, position_bias) instead (see forward below)."""

    def __init__(self, embed_dim, num_heads, num_buckets, max_distance, has_relative_position_bias):
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.gru_rel_pos_const = nn.Parameter(torch.ones(1, num_heads, 1, 1))
        self.gru_rel_pos_linear = nn.Linear(self.head_dim, 8)
        if has_relative_position_bias:
            self.rel_attn_embed = nn.Embedding(num_buckets, num_heads)

    def compute_bias(self, length):
        """[heads, T, T]: rel_attn_embed[bucket(j - i)], key j, query i (HF's compute_bias)."""
        relative = torch.arange(length)[None, :] - torch.arange(length)[:, None]
        return self.rel_attn_embed(self.relative_positions_bucket(relative)).permute([2, 0, 1])

    def relative_positions_bucket(self, relative):
        num_buckets = self.num_buckets // 2
        buckets = (relative > 0).to(torch.long) * num_buckets
        relative = torch.abs(relative)
        max_exact = num_buckets // 2
        is_small = relative < max_exact
        # float32, as in HF
        large = torch.log(relative.float() / max_exact)
        large = large / math.log(self.max_distance / max_exact)
        large = large * (num_buckets - max_exact)
        large = (max_exact + large).to(torch.long)
        large = torch.min(large, torch.full_like(large, num_buckets - 1))
        return buckets + torch.where(is_small, relative, large)

    def forward(self, x, key_padding_and_bias):
        key_padding_mask, position_bias = key_padding_and_bias
        bsz, tgt_len, _ = x.size()
        # the gate, from this layer's attention input
        gated = x.view(x.shape[:-1] + (self.num_heads, -1)).permute(0, 2, 1, 3)
        proj = self.gru_rel_pos_linear(gated).view(gated.shape[:-1] + (2, 4)).sum(-1)
        gate_a, gate_b = torch.sigmoid(proj).chunk(2, dim=-1)
        gate = gate_a * (gate_b * self.gru_rel_pos_const - 1.0) + 2.0
        gated_position_bias = (gate.view(bsz * self.num_heads, -1, 1) * position_bias).view((-1, tgt_len, tgt_len))
        # HF's torch_multi_head_self_attention: the same arguments, so the same arithmetic (q / sqrt(d), baddbmm
        # with the bias, padded keys filled with -inf)
        x = x.transpose(0, 1)
        out, _ = nn.functional.multi_head_attention_forward(
            x, x, x, self.embed_dim, self.num_heads,
            torch.empty([0]), torch.cat((self.q_proj.bias, self.k_proj.bias, self.v_proj.bias)),
            None, None, False, 0.0, self.out_proj.weight, self.out_proj.bias, False,
            key_padding_mask, False, gated_position_bias,
            use_separate_proj_weight=True,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight,
        )
        return out.transpose(0, 1)


def build(cfg):
    """A torchaudio Wav2Vec2Model from an HF config dict, with HF's layer_norm_eps and, for WavLM, HF's attention."""
    model = torchaudio.models.wav2vec2_model(
        extractor_mode=cfg["feat_extract_norm"] + "_norm",
        extractor_conv_layer_config=list(zip(cfg["conv_dim"], cfg["conv_kernel"], cfg["conv_stride"])),
        extractor_conv_bias=cfg["conv_bias"],
        encoder_embed_dim=cfg["hidden_size"],
        encoder_projection_dropout=0.0,
        encoder_pos_conv_kernel=cfg["num_conv_pos_embeddings"],
        encoder_pos_conv_groups=cfg["num_conv_pos_embedding_groups"],
        encoder_num_layers=cfg["num_hidden_layers"],
        encoder_num_heads=cfg["num_attention_heads"],
        encoder_attention_dropout=0.0,
        encoder_ff_interm_features=cfg["intermediate_size"],
        encoder_ff_interm_dropout=0.0,
        encoder_dropout=0.0,
        encoder_layer_norm_first=cfg["do_stable_layer_norm"],
        encoder_layer_drop=0.0,
        aux_num_out=None,
    )
    transformer = model.encoder.transformer
    for norm in [model.encoder.feature_projection.layer_norm, transformer.layer_norm]:
        norm.eps = cfg["layer_norm_eps"]
    for layer in transformer.layers:
        layer.layer_norm.eps = layer.final_layer_norm.eps = cfg["layer_norm_eps"]
    if cfg["model_type"] == "wavlm":
        for i, layer in enumerate(transformer.layers):
            layer.attention = WavLMSelfAttention(
                cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_buckets"], cfg["max_bucket_distance"], i == 0
            )
    return model.double().eval()  # float64, see the top of this file


def load(model, weights):
    """weights: HF name -> float32 tensor (widened to the model's float64). Every parameter must be given."""
    state = {torchaudio_name(k): v for k, v in weights.items() if torchaudio_name(k) is not None}
    model.load_state_dict(state, strict=True)


@torch.no_grad()
def forward(model, cfg, input_values, attention_mask=None):
    """What HF's *Model(input_values, attention_mask, output_hidden_states=True) returns, computed in float64 and
    rounded to float32, as the case tensors: conv_features, frame_attention_mask (with a mask), extract_features
    (not HuBERT), hidden_states_0..N, last_hidden_state; and the valid frame counts."""
    lengths = None if attention_mask is None else attention_mask.sum(-1).to(torch.long)
    # [B, T, C]; like HF's, the conv stack does not look at the mask
    conv, frames = model.feature_extractor(input_values.double(), lengths)
    batch, t = conv.shape[:2]
    out = {"conv_features": conv}
    if frames is not None:  # frame t is valid iff t < frames (HF's _get_feature_vector_attention_mask)
        out["frame_attention_mask"] = (torch.arange(t)[None, :] < frames[:, None]).float()
    if cfg["model_type"] != "hubert":  # HubertModel returns no extract_features
        out["extract_features"] = model.encoder.feature_projection.layer_norm(conv)
    # projection; with lengths, padded frames set to 0 and the additive key mask built (-10000 where HF uses
    # finfo.min: both give exp() == 0 exactly, and 0 added to the valid keys either way)
    x, mask = model.encoder._preprocess(conv, frames)
    transformer = model.encoder.transformer
    if cfg["model_type"] == "wavlm":
        # HF: layer 0 computes the bias, every later layer reuses it ungated; padded keys as a bool mask
        bias = transformer.layers[0].attention.compute_bias(t)
        bias = bias.unsqueeze(0).repeat(batch, 1, 1, 1).view(batch * cfg["num_attention_heads"], t, t)
        padding = None if frames is None else torch.arange(t)[None, :] >= frames[:, None]
        mask = (padding, bias)
    x = transformer._preprocess(x)  # x + pos_conv(x), then the encoder LayerNorm in post-norm models
    hidden = [x]
    for layer in transformer.layers:
        x = layer(x, mask)
        hidden.append(x)
    if cfg["do_stable_layer_norm"]:
        hidden[-1] = transformer.layer_norm(hidden[-1])
    for i, h in enumerate(hidden):
        out[f"hidden_states_{i}"] = h
    out["last_hidden_state"] = hidden[-1]
    valid = [t] * batch if frames is None else frames.tolist()
    return {k: v.float() for k, v in out.items()}, valid


# ---------------------------------------------------------------------------------------------------------------
# Preprocessing


def feature_extractor(waves, prep):
    """HF's Wav2Vec2FeatureExtractor(waves, padding=True) with preprocessor_config.json settings `prep`:
    (input_values [B, N] float32, attention_mask [B, N] int32 or None). The same numpy expressions as HF's
    zero_mean_unit_var_norm, which runs after padding. They round as numpy 1.x does (Debian bookworm's 1.24:
    float32 mean and var, var + 1e-7 and its sqrt in float64, the division in float32); numpy 2 promotes
    differently."""
    waves = [np.asarray(w, dtype=np.float32) for w in waves]
    n = max(len(w) for w in waves)
    values = [np.pad(w, (0, n - len(w)), "constant", constant_values=prep["padding_value"]) for w in waves]
    mask = [np.pad(np.ones(len(w), dtype=np.int32), (0, n - len(w))) for w in waves]
    if prep["do_normalize"]:
        if prep["return_attention_mask"]:
            normed = []
            for v, length in zip(values, np.array(mask, np.int32).sum(-1)):
                s = (v - v[:length].mean()) / np.sqrt(v[:length].var() + 1e-7)
                if length < s.shape[0]:
                    s[length:] = prep["padding_value"]
                normed.append(s)
            values = normed
        else:
            # no mask returned: the statistics include the padding, and the padded tail is normalised too
            values = [(v - v.mean()) / np.sqrt(v.var() + 1e-7) for v in values]
    return np.stack(values), (np.stack(mask) if prep["return_attention_mask"] else None)
