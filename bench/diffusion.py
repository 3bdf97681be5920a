#!/usr/bin/env python3
"""Video diffusion on CPU: vidi vs the same model in PyTorch eager, one run.

The model is --model (default: the shipped samples/models/diffusion-synth.safetensors)
or, when that file is missing, the default model's shape (tools/train_diffusion.py:
16 frames at 32x32, patch 4 -> 1024 tokens, hidden 96, 4 heads, 6 blocks
alternating spatial / temporal attention, MLP 384, 12 classes, in-painting
inputs, learned sigma) with random weights (tools/diffusion_reference.py),
written once to --cache. Per round, in this order:
  1. vidi: `vidi generate --json --sampler ddim --steps 50` (subprocess, the
     summary's "seconds" is the sampling loop: 50 denoiser forwards plus the
     sampler), and the same with --steps 10; forward time = the difference / 40;
  2. PyTorch eager in this process (torch.set_num_threads(T), inference_mode,
     batch 1): the denoiser forward (warmup, then the median of --iters), and a
     50-step DDIM loop (the same improved-diffusion arithmetic in torch).
Prints a table and the ratios (goal in issue 7: vidi >= 2x PyTorch). The
PyTorch side is the reference model with its written-out attention replaced
by F.scaled_dot_product_attention (checked equal to the reference first).

  python3 bench/diffusion.py --vidi build/vidi --threads 2 --rounds 2

--isa avx2 holds both sides to AVX2/FMA on a CPU that has AVX-512, to measure
what a CPU without it gets: vidi through VIDI_CPU_ISA=avx2 and OpenBLAS's
Haswell kernels (OPENBLAS_CORETYPE), PyTorch through ATEN_CPU_CAPABILITY,
DNNL_MAX_CPU_ISA and MKL_ENABLE_INSTRUCTIONS (set before torch loads; the
capability torch reports is printed).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

# The instruction-set cap must be in the environment before torch (and its
# MKL / oneDNN) load, and vidi inherits it.
ISA_ENV = {"avx2": {"VIDI_CPU_ISA": "avx2", "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
                    "DNNL_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}}
if "--isa" in sys.argv[1:-1]:
    os.environ.update(ISA_ENV.get(sys.argv[sys.argv.index("--isa") + 1], {}))

import torch  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import diffusion_reference  # noqa: E402
from diffusion_reference import Denoiser, save_vidi  # noqa: E402


def sdpa_attention(self, qkv, frames):
    """The reference's attention with torch's fused kernel: the fastest eager form."""
    b, n, three_d = qkv.shape
    d = three_d // 3
    s, hd = n // frames, d // self.heads
    x = qkv.reshape(b, frames, s, 3, self.heads, hd)
    x = x.permute(3, 0, 2, 4, 1, 5) if self.temporal else x.permute(3, 0, 1, 4, 2, 5)
    o = torch.nn.functional.scaled_dot_product_attention(x[0], x[1], x[2])
    o = o.permute(0, 3, 1, 2, 4) if self.temporal else o.permute(0, 1, 3, 2, 4)
    return o.reshape(b, n, d)

CONFIG = dict(frames=16, image_size=32, channels=3, patch=4, hidden=96, heads=4, depth=6, mlp_dim=384, freq_dim=64,
              num_classes=12, learn_sigma=True, inpaint=True, labels=[f"class_{i}" for i in range(12)])


def build(path):
    torch.manual_seed(0)
    m = Denoiser(CONFIG).eval()
    with torch.no_grad():  # adaLN-Zero / output start at zero: give them weights so nothing is skipped
        for mod in m.modules():
            if isinstance(mod, torch.nn.Linear) and not mod.weight.abs().sum():
                mod.weight.normal_(0, 0.5 / math.sqrt(mod.in_features))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_vidi(m, path)
    return m


def vidi_seconds(vidi, model, steps, threads, out):
    r = subprocess.run([vidi, "generate", "--model", model, "--label", "3", "--sampler", "ddim", "--steps", str(steps),
                        "--threads", str(threads), "--json", "-q", "-o", out], check=True, capture_output=True, text=True)
    return json.loads(r.stdout)["seconds"]


def torch_forward(m, iters, warmup):
    c = m.cfg
    x = torch.randn(1, c["frames"], 3, c["image_size"], c["image_size"])
    t, y = torch.tensor([500]), torch.tensor([3])
    with torch.inference_mode():
        for _ in range(warmup):
            m(x, t, y)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            m(x, t, y)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def torch_ddim(m, steps):
    c = m.cfg
    T = 1000
    f = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = torch.tensor([min(1 - f((i + 1) / T) / f(i / T), 0.999) for i in range(T)], dtype=torch.float64)
    ac = torch.cumprod(1 - betas, 0)
    ts = list(range(0, T, T // steps))[::-1]
    x = torch.randn(1, c["frames"], 3, c["image_size"], c["image_size"])
    y = torch.tensor([3])
    t0 = time.perf_counter()
    with torch.inference_mode():
        for k, t in enumerate(ts):
            eps = m(x, torch.tensor([t]), y)[:, :, :3]
            ab = ac[t].item()
            if m.cfg.get("prediction", "eps") == "velocity":  # as vidi: eps = sqrt(abar) u + sqrt(1-abar) x_t
                eps = math.sqrt(ab) * eps + math.sqrt(1 - ab) * x
            abp = ac[ts[k + 1]].item() if k + 1 < len(ts) else 1.0
            x0 = ((x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)).clamp(-1, 1)
            e = (x - math.sqrt(ab) * x0) / math.sqrt(1 - ab)
            x = x0 * math.sqrt(abp) + math.sqrt(1 - abp) * e
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vidi", default=os.path.join(REPO, "build/vidi"))
    ap.add_argument("--model", default=os.path.join(REPO, "samples/models/diffusion-synth.safetensors"))
    ap.add_argument("--cache", default="/tmp/vidi-bench-diffusion")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--isa", choices=("best", "avx2"), default="best",
                    help="avx2: both sides held to AVX2/FMA (what a CPU without AVX-512 runs)")
    args = ap.parse_args()
    print(f"instruction set: {args.isa}; torch's CPU capability: {torch.backends.cpu.get_cpu_capability()}"
          + "".join(f", {k}={os.environ[k]}" for k in ISA_ENV["avx2"] if k in os.environ))
    torch.set_num_threads(args.threads)
    if os.path.exists(args.model):
        path, m = args.model, diffusion_reference.load_vidi(args.model).eval()
    else:
        path = os.path.join(args.cache, "model.safetensors")
        m = build(path)
    c = m.cfg
    print(f"model: {path if path == args.model else 'random weights, ' + path}: {c['frames']} frames "
          f"{c['image_size']}x{c['image_size']}, patch {c['patch']}, hidden {c['hidden']}, depth {c['depth']}")
    x = torch.randn(1, c["frames"], 3, c["image_size"], c["image_size"])
    with torch.inference_mode():
        ref = m(x, torch.tensor([7]), torch.tensor([1]))
        diffusion_reference.Block.attention = sdpa_attention
        fast = m(x, torch.tensor([7]), torch.tensor([1]))
    assert (ref - fast).abs().max().item() < 1e-4, "SDPA attention differs from the reference"
    out = os.path.join(args.cache, "out.gif")
    rows = []
    for r in range(args.rounds):
        v50 = vidi_seconds(args.vidi, path, 50, args.threads, out)
        v10 = vidi_seconds(args.vidi, path, 10, args.threads, out)
        vf = (v50 - v10) / 40
        tf = torch_forward(m, args.iters, args.warmup)
        t50 = torch_ddim(m, 50)
        rows.append((vf, tf, v50, t50))
        print(f"round {r}: forward vidi {vf * 1e3:.1f} ms, torch {tf * 1e3:.1f} ms ({tf / vf:.2f}x); "
              f"50-step DDIM vidi {v50:.2f} s, torch {t50:.2f} s ({t50 / v50:.2f}x)", flush=True)
    vf, tf, v50, t50 = (statistics.median(c) for c in zip(*rows))
    print(f"\nmedian of {args.rounds} rounds, {args.threads} threads, torch {torch.__version__}:")
    print("| measure | vidi | PyTorch eager | PyTorch / vidi |")
    print("|---|---|---|---|")
    tokens = c["frames"] * (c["image_size"] // c["patch"]) ** 2
    print(f"| denoiser forward ({tokens} tokens) | {vf * 1e3:.1f} ms | {tf * 1e3:.1f} ms | {tf / vf:.2f}x |")
    print(f"| 50-step DDIM generation | {v50:.2f} s | {t50:.2f} s | {t50 / v50:.2f}x |")


if __name__ == "__main__":
    main()
