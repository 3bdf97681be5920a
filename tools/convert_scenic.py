#!/usr/bin/env python3
"""Convert a Scenic ViViT factorised-encoder (model 2) Flax checkpoint into
vidi's single-file format (docs/checkpoints.md, "ViViT").

    python3 tools/convert_scenic.py CHECKPOINT -o model.safetensors \\
        [--labels labels.txt] [--hidden-act gelu_pytorch_tanh] [--preprocessor JSON]

CHECKPOINT is what flax.training.checkpoints writes (a msgpack tree; Scenic's
train state with a "params" subtree, legacy "optimizer"/"target", or a bare
params tree). Scenic's SpaceTimeViViT with classifier 'token':

  embedding/{kernel [t,h,w,C,D], bias}
  cls_SpatialTransformer, cls_TemporalTransformer           [1,1,D]
  {Spatial,Temporal}Transformer/posembed_input/pos_embedding [1,1+S|1+T',D]
  .../encoderblock_i/LayerNorm_0, MultiHeadDotProductAttention_0/{query,key,value}
      {kernel [D,H,hd], bias [H,hd]}, .../out {kernel [H,hd,D], bias [D]},
      LayerNorm_1, MlpBlock_0/Dense_0, Dense_1  (Dense kernels are [in, out])
  .../encoder_norm; output_projection {kernel [D,L], bias [L]}

Every size (hidden, heads, tubelet, frames, image size, depths, MLP width,
classes) is read off the tensor shapes. Scenic's MLP uses flax nn.gelu, whose
default is the tanh approximation, and flax LayerNorm eps 1e-6. Scenic's
ViViT input is zero-centred to [-1, 1]; the default preprocessor says so.

Only the msgpack subset flax writes is decoded here (pure Python), so the tool
needs no third-party package besides numpy and safetensors.
"""
import argparse
import json
import struct
import sys

import numpy as np

# --------------------------------------------------------------------------
# msgpack (the subset flax.serialization writes)

EXT_NDARRAY, EXT_NPSCALAR = 1, 3


class _Reader:
    def __init__(self, buf):
        self.b, self.i = buf, 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise ValueError("msgpack: truncated input")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def u(self, fmt):
        return struct.unpack(">" + fmt, self.take(struct.calcsize(fmt)))[0]

    def obj(self):
        c = self.take(1)[0]
        if c <= 0x7F:
            return c
        if c >= 0xE0:
            return c - 0x100
        if 0x80 <= c <= 0x8F:
            return self.map(c & 0x0F)
        if 0x90 <= c <= 0x9F:
            return [self.obj() for _ in range(c & 0x0F)]
        if 0xA0 <= c <= 0xBF:
            return bytes(self.take(c & 0x1F)).decode()
        simple = {0xC0: None, 0xC2: False, 0xC3: True}
        if c in simple:
            return simple[c]
        if c in (0xC4, 0xC5, 0xC6):
            return bytes(self.take(self.u("BHI"[c - 0xC4])))
        if c in (0xC7, 0xC8, 0xC9):
            n = self.u("BHI"[c - 0xC7])
            return self.ext(self.u("b"), n)
        if c == 0xCA:
            return self.u("f")
        if c == 0xCB:
            return self.u("d")
        if 0xCC <= c <= 0xCF:
            return self.u("BHIQ"[c - 0xCC])
        if 0xD0 <= c <= 0xD3:
            return self.u("bhiq"[c - 0xD0])
        if 0xD4 <= c <= 0xD8:
            code = self.u("b")
            return self.ext(code, 1 << (c - 0xD4))
        if c in (0xD9, 0xDA, 0xDB):
            return bytes(self.take(self.u("BHI"[c - 0xD9]))).decode()
        if c in (0xDC, 0xDD):
            return [self.obj() for _ in range(self.u("HI"[c - 0xDC]))]
        if c in (0xDE, 0xDF):
            return self.map(self.u("HI"[c - 0xDE]))
        raise ValueError(f"msgpack: unsupported type byte 0x{c:02x} at {self.i - 1}")

    def map(self, n):
        out = {}
        for _ in range(n):
            k = self.obj()
            out[k] = self.obj()
        return out

    def ext(self, code, n):
        data = bytes(self.take(n))
        if code in (EXT_NDARRAY, EXT_NPSCALAR):
            shape, dtype, raw = _Reader(data).obj()
            arr = np.frombuffer(raw, dtype=np.dtype(dtype))
            return arr.reshape(shape) if code == EXT_NDARRAY else arr[0]
        raise ValueError(f"msgpack: unsupported ext type {code}")


def msgpack_load(buf):
    r = _Reader(memoryview(buf))
    out = r.obj()
    if r.i != len(buf):
        raise ValueError(f"msgpack: {len(buf) - r.i} trailing bytes")
    return out


# --------------------------------------------------------------------------
# conversion

def find_params(tree):
    """Scenic train state -> params: "params", legacy "optimizer"/"target"."""
    while isinstance(tree, dict):
        if "embedding" in tree:
            return tree
        for key in ("params", "optimizer", "target"):
            if key in tree:
                tree = tree[key]
                break
        else:
            break
    raise SystemExit("convert_scenic: no Scenic ViViT params (no 'embedding' under params / optimizer.target)")


def need(tree, path):
    node = tree
    for part in path.split("/"):
        if not isinstance(node, dict) or part not in node:
            raise SystemExit(f"convert_scenic: checkpoint lacks '{path}'")
        node = node[part]
    return np.asarray(node, dtype=np.float32)


def convert_stage(p, name, prefix, out):
    """One Scenic Encoder -> vidi '<prefix>' names. Returns (depth, heads, mlp)."""
    out[prefix + "cls_token"] = need(p, "cls_" + name)
    out[prefix + "position_embeddings"] = need(p, name + "/posembed_input/pos_embedding")
    depth, heads, mlp = 0, None, None
    while f"encoderblock_{depth}" in p[name]:
        b, o = f"{name}/encoderblock_{depth}/", f"{prefix}layers.{depth}."
        att = b + "MultiHeadDotProductAttention_0/"
        ws, bs = [], []
        for part in ("query", "key", "value"):
            k = need(p, att + part + "/kernel")  # [D, H, hd]
            d, heads, hd = k.shape
            ws.append(k.reshape(d, heads * hd).T)  # torch Linear [out=(h, hd), in]
            bs.append(need(p, att + part + "/bias").reshape(heads * hd))
        out[o + "qkv.weight"] = np.concatenate(ws, 0)
        out[o + "qkv.bias"] = np.concatenate(bs, 0)
        ko = need(p, att + "out/kernel")  # [H, hd, D]
        out[o + "proj.weight"] = ko.reshape(-1, ko.shape[-1]).T
        out[o + "proj.bias"] = need(p, att + "out/bias")
        for src, dst in (("LayerNorm_0", "ln1"), ("LayerNorm_1", "ln2")):
            out[o + dst + ".weight"] = need(p, b + src + "/scale")
            out[o + dst + ".bias"] = need(p, b + src + "/bias")
        for src, dst in (("Dense_0", "fc1"), ("Dense_1", "fc2")):
            out[o + dst + ".weight"] = need(p, b + "MlpBlock_0/" + src + "/kernel").T
            out[o + dst + ".bias"] = need(p, b + "MlpBlock_0/" + src + "/bias")
        mlp = out[o + "fc1.weight"].shape[0]
        depth += 1
    if depth == 0:
        raise SystemExit(f"convert_scenic: '{name}' has no encoderblock_0")
    out[prefix + "norm.weight"] = need(p, name + "/encoder_norm/scale")
    out[prefix + "norm.bias"] = need(p, name + "/encoder_norm/bias")
    return depth, heads, mlp


def convert(tree, labels=None, hidden_act="gelu_pytorch_tanh", preprocessor=None):
    p = find_params(tree)
    if "SpatialTransformer" not in p or "TemporalTransformer" not in p:
        raise SystemExit("convert_scenic: not a factorised-encoder ViViT (no SpatialTransformer / TemporalTransformer); "
                         "only model 2 is supported")
    if "pre_logits" in p and p["pre_logits"]:
        raise SystemExit("convert_scenic: checkpoints with a representation layer (pre_logits) are not supported")
    out = {}
    k = need(p, "embedding/kernel")  # [t, h, w, C, D]
    t, h, w, c, d = k.shape
    out["embeddings.patch.weight"] = k.transpose(4, 3, 0, 1, 2)  # [D, C, t, h, w]
    out["embeddings.patch.bias"] = need(p, "embedding/bias")
    depth, heads, mlp = convert_stage(p, "SpatialTransformer", "spatial.", out)
    tdepth, theads, tmlp = convert_stage(p, "TemporalTransformer", "temporal.", out)
    if (theads, tmlp) != (heads, mlp):
        raise SystemExit(f"convert_scenic: spatial ({heads} heads, MLP {mlp}) and temporal ({theads} heads, MLP {tmlp}) "
                         "transformers differ; vidi's format has one num_attention_heads / intermediate_size")
    head = need(p, "output_projection/kernel")  # [D, L]
    out["head.weight"] = head.T
    out["head.bias"] = need(p, "output_projection/bias")
    s = out["spatial.position_embeddings"].shape[1] - 1
    nt = out["temporal.position_embeddings"].shape[1] - 1
    side = int(round(s ** 0.5))
    if side * side != s or h != w:
        raise SystemExit(f"convert_scenic: {s} spatial tokens with {h}x{w} patches is not a square image")
    n_labels = head.shape[1]
    if labels and len(labels) != n_labels:
        raise SystemExit(f"convert_scenic: {len(labels)} labels but output_projection has {n_labels} outputs")
    cfg = {"model_type": "vivit", "variant": "factorised_encoder", "num_frames": nt * t, "image_size": side * h,
           "num_channels": c, "tubelet_size": [t, h, w], "hidden_size": d, "num_attention_heads": heads,
           "intermediate_size": mlp, "num_hidden_layers": depth, "num_temporal_layers": tdepth,
           "hidden_act": hidden_act, "layer_norm_eps": 1e-6, "qkv_bias": True,
           "id2label": {str(i): (labels[i] if labels else f"LABEL_{i}") for i in range(n_labels)},
           "preprocessor": preprocessor or {"shortest_edge": side * h, "crop_size": side * h, "resample": 2,
                                            "rescale_factor": 1 / 255, "image_mean": [0.5, 0.5, 0.5],
                                            "image_std": [0.5, 0.5, 0.5]}}
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}, cfg


def save(tensors, cfg, path):
    """safetensors with a sorted header, so reruns are byte-identical."""
    header = {"__metadata__": {"config": json.dumps(cfg, sort_keys=True), "format": "vidi-vivit"}}
    offset, blobs = 0, []
    for name in sorted(tensors):
        a = tensors[name]
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.astype("<f4").tobytes())
        offset += a.nbytes
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--labels", help="text file, one class name per line")
    ap.add_argument("--hidden-act", default="gelu_pytorch_tanh", choices=["gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh"],
                    help="flax nn.gelu default (approximate=True) is the tanh form")
    ap.add_argument("--preprocessor", help="JSON object for the config's 'preprocessor' key")
    a = ap.parse_args(argv)
    with open(a.checkpoint, "rb") as f:
        try:
            tree = msgpack_load(f.read())
        except ValueError as e:
            raise SystemExit(f"convert_scenic: {a.checkpoint}: {e}")
    labels = None
    if a.labels:
        with open(a.labels) as f:
            labels = [line.rstrip("\r\n") for line in f if line.strip()]
    tensors, cfg = convert(tree, labels, a.hidden_act, json.loads(a.preprocessor) if a.preprocessor else None)
    save(tensors, cfg, a.output)
    print(f"{a.output}: factorised encoder, {cfg['num_hidden_layers']}+{cfg['num_temporal_layers']} layers, "
          f"D {cfg['hidden_size']}, {cfg['num_attention_heads']} heads, {len(cfg['id2label'])} classes")


if __name__ == "__main__":
    sys.exit(main())
