#!/usr/bin/env python3
"""Generate vidi's ViViT golden fixtures.

    python3 tools/oracle/gen_vivit_golden.py

Rewrites tests/golden/vivit_*/ (see tools/oracle/README.md, "ViViT"):
  vivit_hf    model 1 as a Hugging Face VivitForVideoClassification directory
              (transformers' own save_pretrained output and forward pass)
  vivit_st    model 1 in the vidi single-file format (PyTorch reference)
  vivit_fe    model 2, factorised encoder (PyTorch reference)
  vivit_fsa   model 3, factorised self-attention, spatial first
  vivit_fsa_tf model 3, temporal first, no qkv bias
  vivit_fdp   model 4, factorised dot-product attention (4 heads: 2 + 2)
  vivit_scenic model 2 as a Scenic Flax checkpoint (msgpack) and its
              tools/convert_scenic.py output
The reference (tools/oracle/vivit_reference.py) is itself checked against
transformers on model 1 before anything is written. Deterministic: fixed
seeds, CPU, float32, one thread.
"""
import json
import os
import struct
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_vit_golden import fresh_dir, perturb, write_golden  # noqa: E402
import vivit_reference as ref  # noqa: E402

BASE = dict(model_type="vivit", num_frames=8, image_size=32, num_channels=3, tubelet_size=[2, 8, 8],
            hidden_size=64, num_attention_heads=2, intermediate_size=96, num_hidden_layers=2,
            hidden_act="gelu_fast", layer_norm_eps=1e-6, qkv_bias=True,
            id2label={str(i): f"action_{i}" for i in range(5)})
PREPROCESSOR = {"shortest_edge": 36, "crop_size": 32, "resample": 2, "rescale_factor": 1 / 127.5,
                "image_mean": [1.0, 1.0, 1.0], "image_std": [1.0, 1.0, 1.0]}


def save_deterministic(sd, path, meta):
    """save_file, then rewrite the header with sorted keys: safetensors orders
    __metadata__ by a hash map, which would make reruns differ byte-wise."""
    import struct
    save_file(sd, path, metadata=meta)
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.dumps(json.loads(raw[8:8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + raw[8 + n:])


# --------------------------------------------------------------------------
# Scenic checkpoint layout (flax.serialization msgpack), for the converter test

def msgpack_pack(o):
    """The msgpack subset flax.serialization.msgpack_serialize writes: maps
    with str keys, ints, floats, str, and ndarrays as ext type 1 holding
    (shape, dtype name, C-order bytes)."""
    import numpy as np
    if isinstance(o, dict):
        n = len(o)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(msgpack_pack(str(k)) + msgpack_pack(v) for k, v in o.items())
    if isinstance(o, (list, tuple)):
        n = len(o)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(msgpack_pack(v) for v in o)
    if isinstance(o, str):
        b = o.encode()
        return (bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(o, bytes):
        return b"\xc6" + struct.pack(">I", len(o)) + o
    if isinstance(o, int):
        return bytes([o]) if 0 <= o < 128 else b"\xd3" + struct.pack(">q", o)
    if isinstance(o, np.ndarray):
        body = msgpack_pack((list(o.shape), o.dtype.name, np.ascontiguousarray(o).tobytes()))
        return b"\xc9" + struct.pack(">Ib", len(body), 1) + body
    raise TypeError(type(o))


def to_scenic(model, cfg):
    """PyTorch FactorisedEncoder -> Scenic SpaceTimeViViT params tree (Flax layouts)."""
    sd = {k: v.detach().numpy().astype("float32") for k, v in model.state_dict().items()}
    heads, d = cfg["num_attention_heads"], cfg["hidden_size"]
    hd = d // heads

    def stage(prefix, depth):
        t = {"posembed_input": {"pos_embedding": sd[prefix + "position_embeddings"]},
             "encoder_norm": {"scale": sd[prefix + "norm.weight"], "bias": sd[prefix + "norm.bias"]}}
        for i in range(depth):
            p = f"{prefix}layers.{i}."
            q, k, v = sd[p + "qkv.weight"].reshape(3, d, d)
            qb, kb, vb = sd[p + "qkv.bias"].reshape(3, d)
            att = {name: {"kernel": w.T.reshape(d, heads, hd), "bias": b.reshape(heads, hd)}
                   for name, w, b in (("query", q, qb), ("key", k, kb), ("value", v, vb))}
            att["out"] = {"kernel": sd[p + "proj.weight"].T.reshape(heads, hd, d), "bias": sd[p + "proj.bias"]}
            t[f"encoderblock_{i}"] = {
                "LayerNorm_0": {"scale": sd[p + "ln1.weight"], "bias": sd[p + "ln1.bias"]},
                "MultiHeadDotProductAttention_0": att,
                "LayerNorm_1": {"scale": sd[p + "ln2.weight"], "bias": sd[p + "ln2.bias"]},
                "MlpBlock_0": {"Dense_0": {"kernel": sd[p + "fc1.weight"].T, "bias": sd[p + "fc1.bias"]},
                               "Dense_1": {"kernel": sd[p + "fc2.weight"].T, "bias": sd[p + "fc2.bias"]}}}
        return t

    params = {"embedding": {"kernel": sd["embeddings.patch.weight"].transpose(2, 3, 4, 1, 0),
                            "bias": sd["embeddings.patch.bias"]},
              "cls_SpatialTransformer": sd["spatial.cls_token"], "cls_TemporalTransformer": sd["temporal.cls_token"],
              "SpatialTransformer": stage("spatial.", cfg["num_hidden_layers"]),
              "TemporalTransformer": stage("temporal.", cfg["num_temporal_layers"]),
              "output_projection": {"kernel": sd["head.weight"].T, "bias": sd["head.bias"]}}
    # flax.training.checkpoints saves the whole Scenic TrainState.
    return {"global_step": 0, "model_state": {}, "params": params}


def scenic_case(seed=1100):
    """Model 2 written in Scenic's Flax layout, converted by tools/convert_scenic.py."""
    import subprocess
    cfg = dict(BASE, variant="factorised_encoder", num_hidden_layers=1, num_temporal_layers=1, hidden_act="gelu_pytorch_tanh",
               num_attention_heads=4, id2label={str(i): f"LABEL_{i}" for i in range(5)})
    d = fresh_dir("vivit_scenic")
    torch.manual_seed(seed)
    model = ref.build(cfg).eval()
    perturb(model, cls_pos(model), seed + 1)
    ckpt = os.path.join(d, "checkpoint_0.msgpack")
    with open(ckpt, "wb") as f:
        f.write(msgpack_pack(to_scenic(model, cfg)))
    out = os.path.join(d, "model.safetensors")
    tool = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "convert_scenic.py")
    subprocess.run([sys.executable, tool, ckpt, "-o", out], check=True, stdout=subprocess.DEVNULL)
    converted = load_file(out)
    for k, v in model.state_dict().items():
        assert torch.equal(converted[k], v), k
    x = clip(seed + 2, cfg)
    with torch.no_grad():
        _, st = model(x)
    g = {"input": x[0]}
    g.update(flat(st))
    write_golden(d, g, "model 2 from a Scenic-layout Flax msgpack via tools/convert_scenic.py")
    print("vivit_scenic: converted tensors == reference weights")


def clip(seed, cfg):
    g = torch.Generator().manual_seed(seed)
    s = cfg["image_size"]
    return torch.randn(1, cfg["num_frames"], cfg["num_channels"], s, s, generator=g)


def cls_pos(model):
    return {n for n, _ in model.named_parameters() if n.endswith(("cls_token", "position_embeddings"))}


def flat(st):
    """Drop the batch dim; model 2's [(b t), 1+S, D] becomes [t*(1+S), D]."""
    return {k: (v.reshape(-1, v.shape[-1]) if v.ndim == 3 else v[0]) for k, v in st.items()}


def hf_case(seed=500):
    from transformers import VivitConfig, VivitForVideoClassification, VivitImageProcessor

    d = fresh_dir("vivit_hf")
    kw = {k: v for k, v in BASE.items() if k != "model_type"}
    cfg = VivitConfig(**kw)
    torch.manual_seed(seed)
    model = VivitForVideoClassification(cfg).eval()
    perturb(model, cls_pos(model), seed + 1)
    model.save_pretrained(d)
    VivitImageProcessor(size={"shortest_edge": 36}, crop_size={"height": 32, "width": 32}).save_pretrained(d)
    model = VivitForVideoClassification.from_pretrained(d, attn_implementation="eager").eval()
    x = clip(seed + 2, BASE)
    caught = {}
    h = model.vivit.layernorm.register_forward_hook(lambda m, i, o: caught.__setitem__("final_norm", o))
    with torch.no_grad():
        out = model(pixel_values=x, output_hidden_states=True)
    h.remove()
    hs = out.hidden_states
    g = {"input": x[0], "embeddings": hs[0][0]}
    for i in range(cfg.num_hidden_layers):
        g[f"layer.{i}"] = hs[i + 1][0]
    g["final_norm"] = caught["final_norm"][0]
    g["logits"] = out.logits[0]

    # The reference must agree with transformers before it is trusted for 2-4.
    r = ref.build(dict(BASE, variant="spatiotemporal")).eval()
    w = load_file(os.path.join(d, "model.safetensors"))
    sd = {"embeddings.patch.weight": w["vivit.embeddings.patch_embeddings.projection.weight"],
          "embeddings.patch.bias": w["vivit.embeddings.patch_embeddings.projection.bias"],
          "embeddings.cls_token": w["vivit.embeddings.cls_token"],
          "embeddings.position_embeddings": w["vivit.embeddings.position_embeddings"],
          "norm.weight": w["vivit.layernorm.weight"], "norm.bias": w["vivit.layernorm.bias"],
          "head.weight": w["classifier.weight"], "head.bias": w["classifier.bias"]}
    hf_names = {"ln1": "layernorm_before", "proj": "attention.output.dense", "ln2": "layernorm_after",
                "fc1": "intermediate.dense", "fc2": "output.dense"}
    for i in range(cfg.num_hidden_layers):
        p = f"vivit.encoder.layer.{i}."
        for ours, theirs in hf_names.items():
            for s in ("weight", "bias"):
                sd[f"layers.{i}.{ours}.{s}"] = w[p + theirs + "." + s]
        for s in ("weight", "bias"):
            sd[f"layers.{i}.qkv.{s}"] = torch.cat([w[p + f"attention.attention.{n}.{s}"] for n in ("query", "key", "value")])
    r.load_state_dict(sd)
    with torch.no_grad():
        _, st = r(x)
    for k, v in flat(st).items():
        err = (v - g[k]).abs().max() / g[k].abs().max()
        assert err < 1e-5, (k, float(err))
    write_golden(d, g, "HF VivitForVideoClassification, 8x32x32 clip, tubelet 2x8x8, D64, 2 layers, gelu_fast")
    print("vivit_hf: reference == transformers on every stage")


def vidi_case(case, seed, desc, **over):
    cfg = dict(BASE, **over)
    d = fresh_dir(case)
    torch.manual_seed(seed)
    model = ref.build(cfg).eval()
    perturb(model, cls_pos(model), seed + 1)
    meta = {"format": "vidi-vivit", "config": json.dumps(cfg, sort_keys=True)}
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    path = os.path.join(d, "model.safetensors")
    save_deterministic(sd, path, meta)
    x = clip(seed + 2, cfg)
    with torch.no_grad():
        _, st = model(x)
    g = {"input": x[0]}
    g.update(flat(st))
    write_golden(d, g, desc)
    print(f"{case}: {len(g) - 1} stages")


def main():
    hf_case()
    vidi_case("vivit_st", 600, "model 1 spatiotemporal, vidi format", variant="spatiotemporal",
              hidden_act="gelu", preprocessor=PREPROCESSOR)
    vidi_case("vivit_fe", 700, "model 2 factorised encoder, 2 spatial + 1 temporal layers",
              variant="factorised_encoder", num_temporal_layers=1, hidden_act="gelu")
    vidi_case("vivit_fsa", 800, "model 3 factorised self-attention, spatial first",
              variant="factorised_self_attention", attention_order="spatial_first")
    vidi_case("vivit_fsa_tf", 900, "model 3 factorised self-attention, temporal first, no qkv bias",
              variant="factorised_self_attention", attention_order="temporal_first", qkv_bias=False)
    vidi_case("vivit_fdp", 1000, "model 4 factorised dot-product, 4 heads (2 space, 2 time)",
              variant="factorised_dot_product", num_attention_heads=4, hidden_act="gelu")
    scenic_case()


if __name__ == "__main__":
    main()
