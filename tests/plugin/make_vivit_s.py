#!/usr/bin/env python3
"""A random-weight ViViT-S/16x2 factorised encoder (model 2) in vidi's
single-file format, the "realistic larger model" of the live measurement in
docs/perf.md: 16 frames of 224x224, tubelet 2x16x16, hidden 384, 6 heads,
MLP 1536, 12 spatial + 4 temporal layers, 400 classes (~110 MB, not
committed). Run by hand (needs torch + safetensors):
    python3 tests/plugin/make_vivit_s.py /tmp/vivit-s-fe.safetensors"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "oracle"))
import vivit_reference as ref  # noqa: E402

cfg = dict(model_type="vivit", variant="factorised_encoder", num_frames=16, image_size=224, num_channels=3,
           tubelet_size=[2, 16, 16], hidden_size=384, num_attention_heads=6, intermediate_size=1536,
           num_hidden_layers=12, num_temporal_layers=4, hidden_act="gelu", layer_norm_eps=1e-6, qkv_bias=True,
           id2label={str(i): f"class_{i}" for i in range(400)},
           preprocessor={"shortest_edge": 256, "crop_size": 224})
out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/vivit-s-fe.safetensors"
torch.manual_seed(0)
model = ref.build(cfg).eval()
with torch.no_grad():
    for name, p in model.named_parameters():
        if "cls_token" in name or "position_embeddings" in name:
            p.normal_(0.0, 0.02)
sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
save_file(sd, out, metadata={"format": "vidi-vivit", "config": json.dumps(cfg, sort_keys=True)})
print(out)
