"""vidi's video diffusion denoiser in PyTorch: the model tools/train_diffusion.py
trains and the oracle the C forward (diffusion/denoiser.c) is held to.

A transformer over frame patches (tokens [T, S], frame-major):
  * inputs: x_t (C channels) and, for in-painting models, the known pixels
    x0 * mask (C) and the mask itself (1 channel: the known-token flag), so
    in_channels = 2C + 1; patches of p x p per frame (Conv3d kernel 1 x p x p)
    plus a fixed position table pos_embed [T*S, D] stored in the checkpoint;
  * conditioning c = t_emb + y_emb (DiT): t_emb = MLP(sinusoid(t)), y_emb a
    table with one extra row, the null label used for guidance;
  * blocks alternate spatial (even) and temporal (odd) attention (Latte /
    Video Diffusion Models factorisation), pre-LN without affine, adaLN-Zero
    (DiT: shift/scale/gate x 2 from a zero-initialised linear of gelu(c));
  * time-dependent self-attention (DiffiT TMSA): q = h W_qs + t_emb W_qt and
    likewise k, v, i.e. qkv = h W_qkv^T + b + W_qkv_t t_emb;
  * U-ViT long skips: block i >= depth/2 first mixes in the output of block
    depth-1-i, x = skip(x) + skip_s(x_skip) (a linear over the concatenation,
    kept as two linears so the engine needs no concat);
  * output per token p*p*C_out values ordered (channel, row, col); C_out = 2C
    when the variance is learned: eps then v (improved-DDPM learned range).
    With config "prediction": "velocity" the first C channels are the velocity
    u = sqrt(abar) eps - sqrt(1 - abar) x0 (Salimans & Ho) instead of eps, and
    the model's eps is sqrt(abar) u + sqrt(1 - abar) x_t (eps_from_velocity):
    near pure noise an eps model must carry x0 in a residual that pred_x0
    amplifies 1/sqrt(abar) times, a velocity model outputs ~ -x0 directly.
GELU (tanh) stands where DiT uses SiLU: the engine's fused linear epilogues
have GELU, and the choice is the model's own. The sinusoid is computed in
float64 then rounded, so C and PyTorch agree bit for bit on it.
"""
import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "model_type": "vidi_diffusion",
    "frames": 16, "image_size": 32, "channels": 3, "patch": 4,
    "hidden": 96, "heads": 4, "depth": 4, "mlp_dim": 384, "freq_dim": 64,
    "num_classes": 12, "learn_sigma": True, "inpaint": True,
    "diffusion_steps": 1000, "noise_schedule": "cosine", "ln_eps": 1e-6,
    "prediction": "eps", "labels": [],
}


def eps_from_velocity(u, xt, abar):
    """eps of a velocity model: sqrt(abar) u + sqrt(1 - abar) x_t (abar a
    float or a tensor broadcastable to u), in float64, rounded to float32."""
    a = torch.as_tensor(abar, dtype=torch.float64)
    return (a.sqrt() * u.double() + (1 - a).sqrt() * xt.double()).float()


def timestep_sinusoid(t, dim):
    """[B] ints -> [B, dim]: cos then sin of t * 10000^(-i/half), in float64."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
    args = t.to(torch.float64)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1).float()


def sincos_pos_embed(frames, grid, dim):
    """Fixed [frames*grid*grid, dim] table: 2D spatial sincos (half the
    channels per axis, as MAE/DiT) plus a 1D temporal sincos, summed."""
    def one_d(pos, d):
        omega = 1.0 / 10000 ** (np.arange(d // 2, dtype=np.float64) / (d / 2.0))
        out = np.einsum("m,d->md", pos.astype(np.float64), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)
    gy, gx = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
    spatial = np.concatenate([one_d(gy.ravel(), dim // 2), one_d(gx.ravel(), dim // 2)], axis=1)  # [S, D]
    temporal = one_d(np.arange(frames), dim)  # [T, D]
    table = temporal[:, None, :] + spatial[None, :, :]
    return torch.from_numpy(table.reshape(frames * grid * grid, dim).astype(np.float32))


class Block(nn.Module):
    def __init__(self, cfg, index):
        super().__init__()
        d, m = cfg["hidden"], cfg["mlp_dim"]
        self.heads, self.eps = cfg["heads"], cfg["ln_eps"]
        self.temporal = index % 2 == 1
        self.has_skip = index >= cfg["depth"] // 2
        self.qkv = nn.Linear(d, 3 * d)
        self.qkv_t = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d)
        self.fc1 = nn.Linear(d, m)
        self.fc2 = nn.Linear(m, d)
        self.ada = nn.Linear(d, 6 * d)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)
        if self.has_skip:
            self.skip = nn.Linear(d, d)
            self.skip_s = nn.Linear(d, d, bias=False)

    def attention(self, qkv, frames):
        # qkv [B, T*S, 3D] -> spatial: sequences over S per frame; temporal: over T per position
        b, n, three_d = qkv.shape
        d = three_d // 3
        s = n // frames
        hd = d // self.heads
        x = qkv.reshape(b, frames, s, 3, self.heads, hd)
        if self.temporal:
            x = x.permute(3, 0, 2, 4, 1, 5)  # [3, B, S, H, T, hd]
        else:
            x = x.permute(3, 0, 1, 4, 2, 5)  # [3, B, T, H, S, hd]
        q, k, v = x[0], x[1], x[2]
        att = torch.softmax((q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd)), dim=-1)
        o = att @ v  # [B, A, H, L, hd]
        if self.temporal:
            o = o.permute(0, 3, 1, 2, 4)  # [B, T, S, H, hd]
        else:
            o = o.permute(0, 1, 3, 2, 4)  # [B, T, S, H, hd]
        return o.reshape(b, n, d)

    def forward(self, x, gc, temb, frames, skip=None):
        d = x.shape[-1]
        if self.has_skip:
            x = self.skip(x) + self.skip_s(skip)
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(gc)[:, None, :].split(d, dim=-1)
        h = F.layer_norm(x, (d,), eps=self.eps) * (1 + scale1) + shift1
        qkv = self.qkv(h) + self.qkv_t(temb)[:, None, :]
        x = x + gate1 * self.proj(self.attention(qkv, frames))
        h = F.layer_norm(x, (d,), eps=self.eps) * (1 + scale2) + shift2
        x = x + gate2 * self.fc2(F.gelu(self.fc1(h), approximate="tanh"))
        return x


class Denoiser(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(DEFAULT_CONFIG, **cfg)
        c = self.cfg
        d, p = c["hidden"], c["patch"]
        assert c["depth"] % 2 == 0 and d % c["heads"] == 0 and c["image_size"] % p == 0
        self.grid = c["image_size"] // p
        self.in_channels = 2 * c["channels"] + 1 if c["inpaint"] else c["channels"]
        self.out_channels = 2 * c["channels"] if c["learn_sigma"] else c["channels"]
        self.patch = nn.Conv3d(self.in_channels, d, kernel_size=(1, p, p), stride=(1, p, p))
        self.register_buffer("pos_embed", sincos_pos_embed(c["frames"], self.grid, d))
        self.t_fc1 = nn.Linear(c["freq_dim"], d)
        self.t_fc2 = nn.Linear(d, d)
        self.y_embed = nn.Embedding(c["num_classes"] + 1, d)  # last row: the null label
        nn.init.normal_(self.y_embed.weight, std=0.02)
        self.blocks = nn.ModuleList([Block(c, i) for i in range(c["depth"])])
        self.final_ada = nn.Linear(d, 2 * d)
        self.final = nn.Linear(d, p * p * self.out_channels)
        for lin in (self.final_ada, self.final):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, xt, t, y, known=None, mask=None, hook=None):
        """xt [B, T, C, H, W]; t [B] ints; y [B] labels (num_classes = null);
        known [B, T, C, H, W] and mask [B, T, 1, H, W] (1 = known) for
        in-painting models (None: nothing known). Returns [B, T, C_out, H, W]."""
        c = self.cfg
        b, T, C, H, W = xt.shape
        p, d = c["patch"], c["hidden"]
        if c["inpaint"]:
            if mask is None:
                mask = torch.zeros(b, T, 1, H, W, dtype=xt.dtype)
                known = torch.zeros_like(xt)
            xin = torch.cat([xt, known * mask, mask], dim=2)
        else:
            xin = xt
        x = self.patch(xin.permute(0, 2, 1, 3, 4))  # [B, D, T, g, g]
        x = x.flatten(2).transpose(1, 2) + self.pos_embed[None]
        temb = self.t_fc2(F.gelu(self.t_fc1(timestep_sinusoid(t, c["freq_dim"])), approximate="tanh"))
        gc = F.gelu(temb + self.y_embed(y), approximate="tanh")
        if hook:
            hook("embed", x)
            hook("t_emb", temb)
            hook("cond", gc)
        skips = []
        half = c["depth"] // 2
        for i, blk in enumerate(self.blocks):
            x = blk(x, gc, temb, T, skips.pop() if i >= half else None)
            if i < half:
                skips.append(x)
            if hook:
                hook(f"block.{i}", x)
        shift, scale = self.final_ada(gc)[:, None, :].split(d, dim=-1)
        x = self.final(F.layer_norm(x, (d,), eps=c["ln_eps"]) * (1 + scale) + shift)
        if hook:
            hook("final", x)
        g = self.grid
        x = x.reshape(b, T, g, g, self.out_channels, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return x.reshape(b, T, self.out_channels, H, W)


def state_dict_vidi(model):
    """The vidi single-file names (docs/checkpoints.md, diffusion section)."""
    out = {}
    for k, v in model.state_dict().items():
        name = k
        if k.startswith("t_fc1."):
            name = "t_embed.fc1." + k[len("t_fc1."):]
        elif k.startswith("t_fc2."):
            name = "t_embed.fc2." + k[len("t_fc2."):]
        elif k.startswith("final_ada."):
            name = "final.ada." + k[len("final_ada."):]
        elif k.startswith("final."):
            name = "final.linear." + k[len("final."):]
        out[name] = v.detach().cpu().contiguous().float()
    return out


def load_vidi(path):
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(path, "pt") as fh:
        meta = fh.metadata()
    cfg = json.loads(meta["config"])
    model = Denoiser(cfg)
    sd = load_file(path)
    inv = {}
    for k, v in sd.items():
        name = k
        if k.startswith("t_embed.fc1."):
            name = "t_fc1." + k[len("t_embed.fc1."):]
        elif k.startswith("t_embed.fc2."):
            name = "t_fc2." + k[len("t_embed.fc2."):]
        elif k.startswith("final.ada."):
            name = "final_ada." + k[len("final.ada."):]
        elif k.startswith("final.linear."):
            name = "final." + k[len("final.linear."):]
        inv[name] = v
    model.load_state_dict(inv)
    return model


def save_vidi(model, path):
    from safetensors.torch import save_file
    cfg = model.cfg
    sd = state_dict_vidi(model)
    sd = {k: sd[k] for k in sorted(sd)}
    save_file(sd, path, metadata={"format": "vidi-diffusion", "config": json.dumps(cfg, sort_keys=True)})
