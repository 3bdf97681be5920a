#!/usr/bin/env python3
"""A random-weight factorised-encoder ViViT (model 2) in vidi's single-file
format, for timing `vidi eval` at a size where the model, not decoding, is
the work. Standard library only. Weights are seeded N(0, 0.02), layer norms
identity, so throughput is that of a real checkpoint of this shape.

  eval_model.py OUT.safetensors [--hidden 192] [--heads 3] [--mlp 768]
                [--layers 4] [--temporal-layers 2] [--frames 16] [--size 112]
                [--patch 16] [--tubelet 2] [--classes 12]
"""
import argparse
import array
import json
import random
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    for name, default in (("hidden", 192), ("heads", 3), ("mlp", 768), ("layers", 4), ("temporal-layers", 2),
                          ("frames", 16), ("size", 112), ("patch", 16), ("tubelet", 2), ("classes", 12)):
        ap.add_argument("--" + name, type=int, default=default)
    a = ap.parse_args()
    d, m = a.hidden, a.mlp
    ns, nt = (a.size // a.patch) ** 2, a.frames // a.tubelet
    rng = random.Random(7)
    tensors = {}

    def rand(name, shape, std=0.02):
        n = 1
        for s in shape:
            n *= s
        tensors[name] = (shape, array.array("f", (rng.gauss(0, std) for _ in range(n))))

    def const(name, shape, value):
        n = 1
        for s in shape:
            n *= s
        tensors[name] = (shape, array.array("f", [value]) * n)

    def block(prefix):
        for ln in ("ln1", "ln2"):
            const(prefix + ln + ".weight", [d], 1.0)
            const(prefix + ln + ".bias", [d], 0.0)
        rand(prefix + "qkv.weight", [3 * d, d]); const(prefix + "qkv.bias", [3 * d], 0.0)
        rand(prefix + "proj.weight", [d, d]); const(prefix + "proj.bias", [d], 0.0)
        rand(prefix + "fc1.weight", [m, d]); const(prefix + "fc1.bias", [m], 0.0)
        rand(prefix + "fc2.weight", [d, m]); const(prefix + "fc2.bias", [d], 0.0)

    rand("embeddings.patch.weight", [d, 3, a.tubelet, a.patch, a.patch])
    const("embeddings.patch.bias", [d], 0.0)
    for enc, layers, tokens in (("spatial", a.layers, ns), ("temporal", a.temporal_layers, nt)):
        rand(enc + ".cls_token", [1, 1, d])
        rand(enc + ".position_embeddings", [1, 1 + tokens, d])
        for i in range(layers):
            block("%s.layers.%d." % (enc, i))
        const(enc + ".norm.weight", [d], 1.0)
        const(enc + ".norm.bias", [d], 0.0)
    rand("head.weight", [a.classes, d], 0.5)
    const("head.bias", [a.classes], 0.0)
    config = {"model_type": "vivit", "variant": "factorised_encoder", "hidden_size": d, "num_attention_heads": a.heads,
              "intermediate_size": m, "num_hidden_layers": a.layers, "num_temporal_layers": a.temporal_layers,
              "num_frames": a.frames, "image_size": a.size, "num_channels": 3,
              "tubelet_size": [a.tubelet, a.patch, a.patch], "hidden_act": "gelu", "layer_norm_eps": 1e-6,
              "qkv_bias": True, "id2label": {str(i): "class_%d" % i for i in range(a.classes)}}
    header, blobs, at = {"__metadata__": {"format": "vidi-vivit", "config": json.dumps(config, sort_keys=True)}}, [], 0
    for name in sorted(tensors):
        shape, data = tensors[name]
        blob = data.tobytes()
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    head = json.dumps(header, sort_keys=True).encode()
    head += b" " * (-len(head) % 8)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for b in blobs:
            f.write(b)


if __name__ == "__main__":
    main()
