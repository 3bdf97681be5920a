"""PyTorch reference for ViViT models 1-4 (Arnab et al. 2021, "ViViT: A Video
Vision Transformer"), written from the paper and Scenic's projects/vivit
semantics, independently of vidi's C code.

The module attribute names are chosen so that `state_dict()` keys are exactly
the vidi single-file tensor names (docs/checkpoints.md), so saving a model is
`save_file(model.state_dict(), ...)`.

Semantics (Scenic):
  * tubelet embedding: Conv3d with kernel = stride = (t, h, w); tokens are
    ordered t-major, then h, then w.
  * blocks are pre-norm: x + MHA(LN(x)), then x + MLP(LN(x)).
  * model 1 (spatiotemporal): cls token prepended to all T'*S tokens, one
    position embedding over 1 + T'*S, final LN, head on the cls token.
  * model 2 (factorised encoder): a spatial encoder (own cls, position
    embedding over 1 + S, final LN) runs on every temporal index; its cls
    outputs form the temporal sequence, which gets its own cls token and
    position embedding over 1 + T', a temporal encoder and final LN; head on
    the temporal cls token.
  * model 3 (factorised self-attention): no cls token, position embedding over
    T'*S; each block runs spatial self-attention (within a time index) and
    temporal self-attention (within a spatial position), each with its own
    pre-LN and residual, in the configured order, then the MLP. Final LN over
    all tokens, then global average pooling ('gap'), then the head.
  * model 4 (factorised dot-product attention): like model 3 but each block is
    a plain pre-norm block whose heads are split: the first heads/2 attend over
    space, the rest over time; head outputs are concatenated and projected by
    one output projection. GAP head.

Multi-head attention splits the projected features into heads the standard
way: feature index = head * head_dim + d.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


def act_fn(name):
    if name == "gelu":
        return lambda x: F.gelu(x)
    if name in ("gelu_new", "gelu_fast", "gelu_pytorch_tanh"):
        return lambda x: F.gelu(x, approximate="tanh")
    raise ValueError(name)


def split_heads(x, heads):
    # 'b n (h d) -> b h n d'
    b, n, hd = x.shape
    return x.reshape(b, n, heads, hd // heads).permute(0, 2, 1, 3)


def merge_heads(x):
    # 'b h n d -> b n (h d)'
    b, h, n, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, n, h * d)


def sdpa(q, k, v):
    # plain softmax(q k^T / sqrt(d)) v, written out (no fused kernels)
    w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    return torch.matmul(w.softmax(-1), v)


class MHA(nn.Module):
    """Pre-norm self-attention sub-layer: ln, fused qkv (q, k, v stacked on the
    output dim), proj. Returns only the attention branch (no residual)."""

    def __init__(self, dim, heads, qkv_bias):
        super().__init__()
        self.heads = heads
        self.ln = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):  # x: [b, n, D]
        q, k, v = self.qkv(self.ln(x)).chunk(3, dim=-1)
        o = sdpa(split_heads(q, self.heads), split_heads(k, self.heads), split_heads(v, self.heads))
        return self.proj(merge_heads(o))


class Block(nn.Module):
    """Standard pre-norm transformer block with vidi names ln1/qkv/proj/ln2/fc1/fc2."""

    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.act = act_fn(cfg["hidden_act"])
        self.ln1 = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        self.qkv = nn.Linear(d, 3 * d, bias=cfg["qkv_bias"])
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        self.fc1 = nn.Linear(d, cfg["intermediate_size"])
        self.fc2 = nn.Linear(cfg["intermediate_size"], d)

    def attention(self, h):
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        o = sdpa(split_heads(q, self.heads), split_heads(k, self.heads), split_heads(v, self.heads))
        return self.proj(merge_heads(o))

    def mlp(self, x):
        return self.fc2(self.act(self.fc1(self.ln2(x))))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.mlp(x)


class Embeddings(nn.Module):
    def __init__(self, cfg, with_cls, with_pos):
        super().__init__()
        t, h, w = cfg["tubelet_size"]
        d = cfg["hidden_size"]
        self.patch = nn.Conv3d(cfg["num_channels"], d, kernel_size=(t, h, w), stride=(t, h, w))
        nt, ns = cfg["num_frames"] // t, (cfg["image_size"] // h) * (cfg["image_size"] // w)
        if with_cls:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        if with_pos:
            self.position_embeddings = nn.Parameter(torch.zeros(1, (1 if with_cls else 0) + nt * ns, d))

    def tubelets(self, video):
        """video [b, T, C, H, W] -> tokens [b, T', S, D] (t-major, then h, then w)."""
        x = self.patch(video.permute(0, 2, 1, 3, 4))  # b d t' h' w'
        b, d, nt, nh, nw = x.shape
        return x.reshape(b, d, nt, nh * nw).permute(0, 2, 3, 1)  # 'b d t (h w) -> b t (h w) d'


class Stage(nn.Module):
    """An encoder over one axis with its own cls token, position embedding and
    final norm (both halves of model 2)."""

    def __init__(self, cfg, length, depth):
        super().__init__()
        d = cfg["hidden_size"]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.position_embeddings = nn.Parameter(torch.zeros(1, 1 + length, d))
        self.layers = nn.ModuleList([Block(cfg) for _ in range(depth)])
        self.norm = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])

    def embed(self, x):
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        return torch.cat([cls, x], dim=1) + self.position_embeddings


def dims(cfg):
    t, h, w = cfg["tubelet_size"]
    return cfg["num_frames"] // t, (cfg["image_size"] // h) * (cfg["image_size"] // w)


class Spatiotemporal(nn.Module):
    """Model 1. forward returns (logits, stages)."""

    def __init__(self, cfg):
        super().__init__()
        self.embeddings = Embeddings(cfg, with_cls=True, with_pos=True)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.norm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.head = nn.Linear(cfg["hidden_size"], len(cfg["id2label"]))

    def forward(self, video):
        st = {}
        x = self.embeddings.tubelets(video).flatten(1, 2)  # 'b t s d -> b (t s) d'
        cls = self.embeddings.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], 1) + self.embeddings.position_embeddings
        st["embeddings"] = x
        for i, blk in enumerate(self.layers):
            x = blk(x)
            st[f"layer.{i}"] = x
        x = self.norm(x)
        st["final_norm"] = x
        logits = self.head(x[:, 0])
        st["logits"] = logits
        return logits, st


class FactorisedEncoder(nn.Module):
    """Model 2 ("late fusion"): spatial ViT per temporal index, temporal ViT on its cls outputs."""

    def __init__(self, cfg):
        super().__init__()
        nt, ns = dims(cfg)
        self.embeddings = Embeddings(cfg, with_cls=False, with_pos=False)
        self.spatial = Stage(cfg, ns, cfg["num_hidden_layers"])
        self.temporal = Stage(cfg, nt, cfg["num_temporal_layers"])
        self.head = nn.Linear(cfg["hidden_size"], len(cfg["id2label"]))

    def forward(self, video):
        st = {}
        tok = self.embeddings.tubelets(video)  # b t s d
        b, nt, ns, d = tok.shape
        x = self.spatial.embed(tok.reshape(b * nt, ns, d))  # '(b t) (1+s) d'
        st["embeddings"] = x
        for i, blk in enumerate(self.spatial.layers):
            x = blk(x)
            st[f"spatial.layer.{i}"] = x
        x = self.spatial.norm(x)
        st["spatial.norm"] = x
        x = self.temporal.embed(x[:, 0].reshape(b, nt, d))  # cls of each time index
        st["temporal.embeddings"] = x
        for i, blk in enumerate(self.temporal.layers):
            x = blk(x)
            st[f"temporal.layer.{i}"] = x
        x = self.temporal.norm(x)
        st["final_norm"] = x
        logits = self.head(x[:, 0])
        st["logits"] = logits
        return logits, st


class FSABlock(nn.Module):
    """Model 3 block: spatial MHA, temporal MHA (each x + MHA(LN(x))), then MLP."""

    def __init__(self, cfg):
        super().__init__()
        d, heads, bias = cfg["hidden_size"], cfg["num_attention_heads"], cfg["qkv_bias"]
        self.spatial = MHA(d, heads, bias)
        self.temporal = MHA(d, heads, bias)
        for m in (self.spatial.ln, self.temporal.ln):
            m.eps = cfg["layer_norm_eps"]
        self.temporal_first = cfg.get("attention_order", "spatial_first") == "temporal_first"
        self.act = act_fn(cfg["hidden_act"])
        self.ln2 = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        self.fc1 = nn.Linear(d, cfg["intermediate_size"])
        self.fc2 = nn.Linear(cfg["intermediate_size"], d)

    def forward(self, x):  # x: [b, t, s, D]
        b, nt, ns, d = x.shape

        def over_space(x):  # 'b t s d -> (b t) s d'
            y = self.spatial(x.reshape(b * nt, ns, d))
            return x + y.reshape(b, nt, ns, d)

        def over_time(x):  # 'b t s d -> (b s) t d'
            y = self.temporal(x.permute(0, 2, 1, 3).reshape(b * ns, nt, d))
            return x + y.reshape(b, ns, nt, d).permute(0, 2, 1, 3)

        x = over_space(over_time(x)) if self.temporal_first else over_time(over_space(x))
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class FDPBlock(Block):
    """Model 4 block: one qkv projection; heads [0, H/2) attend within each time
    index (over space), heads [H/2, H) within each spatial position (over time);
    outputs concatenated in head order, one projection."""

    def attention_thw(self, h, nt, ns):  # h: [b, t*s, D] normed
        b, n, d = h.shape
        hs = self.heads // 2
        q, k, v = (split_heads(z, self.heads).reshape(b, self.heads, nt, ns, d // self.heads)
                   for z in self.qkv(h).chunk(3, dim=-1))  # 'b h (t s) e -> b h t s e'
        # spatial heads: sequences over s, batched over t
        o_s = sdpa(q[:, :hs], k[:, :hs], v[:, :hs])  # b hs t s e
        # temporal heads: sequences over t, batched over s
        tr = lambda z: z[:, hs:].transpose(2, 3)  # 'b h t s e -> b h s t e'
        o_t = sdpa(tr(q), tr(k), tr(v)).transpose(2, 3)
        o = torch.cat([o_s, o_t], dim=1).reshape(b, self.heads, n, d // self.heads)
        return self.proj(merge_heads(o))


class Factorised(nn.Module):
    """Models 3 and 4: no cls token, position embedding over T'*S, GAP head."""

    def __init__(self, cfg, variant):
        super().__init__()
        self.variant = variant
        self.embeddings = Embeddings(cfg, with_cls=False, with_pos=True)
        block = FSABlock if variant == "factorised_self_attention" else FDPBlock
        self.layers = nn.ModuleList([block(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.norm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.head = nn.Linear(cfg["hidden_size"], len(cfg["id2label"]))

    def forward(self, video):
        st = {}
        tok = self.embeddings.tubelets(video)  # b t s d
        b, nt, ns, d = tok.shape
        x = tok.reshape(b, nt * ns, d) + self.embeddings.position_embeddings
        st["embeddings"] = x
        for i, blk in enumerate(self.layers):
            if self.variant == "factorised_self_attention":
                x = blk(x.reshape(b, nt, ns, d)).reshape(b, nt * ns, d)
            else:
                x = x + blk.attention_thw(blk.ln1(x), nt, ns)
                x = x + blk.mlp(x)
            st[f"layer.{i}"] = x
        x = self.norm(x)
        st["final_norm"] = x
        logits = self.head(x.mean(dim=1))  # Scenic classifier 'gap': norm, then mean over tokens
        st["logits"] = logits
        return logits, st


def build(cfg):
    v = cfg["variant"]
    if v == "spatiotemporal":
        return Spatiotemporal(cfg)
    if v == "factorised_encoder":
        return FactorisedEncoder(cfg)
    return Factorised(cfg, v)
