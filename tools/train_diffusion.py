#!/usr/bin/env python3
"""Train vidi's default diffusion model: a small class-conditional video
denoiser (tools/diffusion_reference.py) on the synthetic action dataset.

    cmake --build build && python3 tools/train_diffusion.py     # CPU, 2 threads

Steps (everything seeded; intermediate files under --work, reused when present):
  1. `vidi synth`: 12000 clips (seed 11: the classifier's first training set,
     tools/train_vivit.py), 160x120, 16 frames, vp9; the 9600 train clips
     train, 48 of the 2400 validation clips are a fixed held-out monitor;
  2. `vidi sample`: vidi's decoder and sampler give [16, 3, 32, 32] clips in
     [-1, 1] (shorter side 32, centre crop: the classifier's framing at 32 px);
  3. PyTorch training with the Improved-DDPM hybrid loss
     L_simple + lambda * L_vlb (lambda = 0.001, the variance term sees a
     stopped-gradient mean), the network predicting the velocity
     sqrt(abar) eps - sqrt(1-abar) x0 (--prediction; vidi derives eps from
     it), the simple term weighted by min(SNR + 1, 5) / (SNR + 1) (--min-snr), cosine schedule
     with T = 1000, uniform t,
     label dropout 0.1 (the null label, for classifier-free guidance), and
     random in-painting masks given to the model with the known-token flag:
     half the batch has none (generation), the rest one of: a spatial box over
     a frame range, the first k frames (prediction), first and last frames
     (interpolation), random frames (repair); augmentation by horizontal
     mirror / time reversal with relabelling (docs/synth.md);
  4. export of the EMA weights to samples/models/diffusion-synth.safetensors
     (vidi single-file format, docs/checkpoints.md).
Matmuls run under bf16 autocast and the model under torch.compile (--no-bf16,
--no-compile). --device cuda trains on a GPU (not yet run on one). Every --save-every steps the EMA weights are exported and the
whole state (model, EMA, optimiser, RNG, step) goes to WORK/state.pt;
--resume continues from it, so a long run can be spread over sessions with
--max-minutes; the log prints the eps-MSE per 100 steps (derived from the
velocity) and the held-out eps-MSE.
"""
import argparse
import copy
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
from safetensors import safe_open

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from diffusion_reference import Denoiser, load_vidi, save_vidi  # noqa: E402

HFLIP = [1, 0, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11]
REVERSE = [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 10, 11]


def log(msg):
    print(msg, flush=True)


def run(cmd):
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True)


# ---- the process (improved-diffusion, float64 tables) ----

class Process:
    def __init__(self, steps, device="cpu"):
        f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        b = np.array([min(1 - f((i + 1) / steps) / f(i / steps), 0.999) for i in range(steps)])
        ac = np.cumprod(1 - b)
        acp = np.append(1.0, ac[:-1])
        pv = b * (1 - acp) / (1 - ac)
        t = lambda a: torch.tensor(a, dtype=torch.float64)
        self.T = steps
        self.device = device  # where at() puts its per-sample coefficients (the tables stay on the CPU)
        self.betas = t(b)
        self.sqrt_ac, self.sqrt_1mac = t(np.sqrt(ac)), t(np.sqrt(1 - ac))
        self.sqrt_recip, self.sqrt_recipm1 = t(np.sqrt(1 / ac)), t(np.sqrt(1 / ac - 1))
        self.post_c1, self.post_c2 = t(b * np.sqrt(acp) / (1 - ac)), t((1 - acp) * np.sqrt(1 - b) / (1 - ac))
        self.post_logvar = t(np.log(np.append(pv[1], pv[1:])))

    def at(self, table, t):
        return table[t.cpu()].float()[:, None, None, None, None].to(self.device)


def normal_kl(m1, lv1, m2, lv2):
    return 0.5 * (-1.0 + lv2 - lv1 + torch.exp(lv1 - lv2) + (m1 - m2) ** 2 * torch.exp(-lv2))


def approx_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def discretized_nll(x, mean, log_scale):
    # improved-diffusion discretized_gaussian_log_likelihood, 8-bit data in [-1, 1]
    cx = x - mean
    inv = torch.exp(-log_scale)
    cdf_plus, cdf_min = approx_cdf(inv * (cx + 1 / 255.0)), approx_cdf(inv * (cx - 1 / 255.0))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_1m_cdf_min = torch.log((1 - cdf_min).clamp(min=1e-12))
    log_delta = torch.log((cdf_plus - cdf_min).clamp(min=1e-12))
    lp = torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_1m_cdf_min, log_delta))
    return -lp


def motion_weight(x0, w):
    """Per-pixel weight 1 + w where the clip moves: a pixel that differs from
    its own temporal median by more than 0.1 (13 of 255 levels; the synth noise
    is 3) in some channel. The moving object is a few percent of the pixels,
    and only its motion tells the labels apart, so under a plain per-pixel loss
    the label is nearly free to ignore (docs/diffusion.md, run of 2026-12-03)."""
    moving = ((x0 - x0.median(dim=1, keepdim=True).values).abs().amax(dim=2, keepdim=True) > 0.1)
    return 1.0 + w * moving.expand_as(x0).float()


def hybrid_loss(model, proc, x0, y, known_mask, lam, bf16=False, min_snr=0.0, x0_cap=0.0, velocity=False,
                motion=0.0):
    b = x0.shape[0]
    t = torch.randint(0, proc.T, (b,))  # on the CPU: it indexes the process tables
    td = t.to(x0.device)
    noise = torch.randn_like(x0)
    sa, s1a = proc.at(proc.sqrt_ac, t), proc.at(proc.sqrt_1mac, t)
    xt = sa * x0 + s1a * noise
    mask = known_mask
    # bf16 autocast runs the matmuls on the CPU's bf16 units (AMX where
    # present); the losses and the process tables stay in float32/64.
    with torch.autocast(x0.device.type, dtype=torch.bfloat16, enabled=bf16):
        out = model(xt, td, y, x0, mask)
    out = out.float()
    C = x0.shape[2]
    pred, v = out[:, :, :C], out[:, :, C:]
    if velocity:  # the network predicts u = sqrt(abar) eps - sqrt(1-abar) x0
        target = sa * noise - s1a * x0
        eps = sa * pred + s1a * xt
    else:
        target, eps = noise, pred
    # Loss over the pixels the model must produce (all of them for generation).
    weight = 1.0 - mask.expand_as(x0)
    denom = weight.flatten(1).sum(1).clamp(min=1.0)
    if motion > 0:  # the same mean weight per clip, shifted toward the moving pixels
        mw = weight * motion_weight(x0, motion)
        mse = (((pred - target) ** 2) * mw).flatten(1).sum(1) / mw.flatten(1).sum(1).clamp(min=1.0)
    else:
        mse = (((pred - target) ** 2) * weight).flatten(1).sum(1) / denom
    # L_vlb: the variance learns through the KL with the mean's gradient stopped.
    e = eps.detach()
    px0 = (proc.at(proc.sqrt_recip, t) * xt - proc.at(proc.sqrt_recipm1, t) * e).clamp(-1, 1)
    pmean = proc.at(proc.post_c1, t) * px0 + proc.at(proc.post_c2, t) * xt
    min_log, max_log = proc.at(proc.post_logvar, t), torch.log(proc.at(proc.betas, t))
    frac = (v + 1) / 2
    plogvar = frac * max_log + (1 - frac) * min_log
    tmean = proc.at(proc.post_c1, t) * x0 + proc.at(proc.post_c2, t) * xt
    kl = normal_kl(tmean, min_log, pmean, plogvar) / math.log(2.0)
    nll = discretized_nll(x0, pmean, 0.5 * plogvar) / math.log(2.0)
    vlb_px = torch.where((td == 0)[:, None, None, None, None], nll, kl)
    vlb = (vlb_px * weight).flatten(1).sum(1) / denom
    snr = (proc.sqrt_ac[t] ** 2 / proc.sqrt_1mac[t] ** 2).float().to(x0.device)
    w = torch.ones(b, device=x0.device)
    if velocity:
        # The velocity error is the x0 error times sqrt(SNR + 1): plain velocity
        # MSE weights x0 errors by SNR + 1, ~1 at high noise. Capping that at g
        # (w = min(SNR + 1, g) / (SNR + 1)) keeps the low-noise steps from
        # dominating, as Min-SNR does, but unlike Min-SNR's velocity form
        # min(SNR, g) / (SNR + 1) it leaves the high-noise steps their weight:
        # there the model must read the layout and colours off the known
        # frames, and that is where the eps model failed (docs/diffusion.md).
        if min_snr > 0:
            w = (snr + 1).clamp(max=min_snr) / (snr + 1)
    else:
        # Min-SNR-gamma weighting of the eps term: w = min(SNR, g) / SNR. The
        # low-noise steps, where eps-MSE is largest but only fine detail is at
        # stake, stop dominating the gradient.
        if min_snr > 0:
            w = snr.clamp(max=min_snr) / snr
        # An x0-like weight 1/abar (capped): eps-MSE / abar is the velocity error.
        # At high noise an eps error is amplified 1/sqrt(abar) times in pred_x0,
        # and a small error shared by all clips (a bias per token position)
        # grows over the first sampling steps into a fixed per-patch mosaic.
        # The cap leaves t > ~900 nearly unweighted, which is why velocity
        # prediction is the default now (docs/diffusion.md).
        if x0_cap > 0:
            w = w * (1.0 / (proc.sqrt_ac[t] ** 2).float().to(x0.device)).clamp(max=x0_cap)
    eps_mse = ((((eps.detach() - noise) ** 2) * weight).flatten(1).sum(1) / denom).mean().item()
    return (w * mse + lam * proc.T * vlb).mean(), eps_mse, vlb.mean().item()


# ---- masks: 1 = known pixel ----

def random_masks(b, T, H, gen, legacy=False):
    m = torch.zeros(b, T, 1, H, H)
    for i in range(b):
        r = gen.random()
        if r < 0.5:
            continue  # generation: nothing known
        # Boxes are the hardest case (only the surroundings tell what is inside), so they get
        # the largest share, and half of them hide the box in every frame: with a random frame
        # range only, a box over the whole clip came up in ~1 of 200 masks, and the model
        # filled it with a grey guess instead of reading the background around it.
        # legacy: the mix of the run's first 18899 steps (four kinds equally likely, boxes
        # always over a random frame range), kept so the shipped history can be rebuilt.
        kind = gen.randrange(4) if legacy else gen.choices(range(4), weights=(0.4, 0.2, 0.25, 0.15))[0]
        if kind == 0:  # spatial box over a frame range (unknown inside)
            m[i] = 1
            f0, f1 = 0, T
            if legacy or gen.random() < 0.5:
                f0 = gen.randrange(T)
                f1 = gen.randrange(f0, T) + 1
            h, w = gen.randrange(H // 4, H * 3 // 4 + 1), gen.randrange(H // 4, H * 3 // 4 + 1)
            y0, x0 = gen.randrange(H - h + 1), gen.randrange(H - w + 1)
            m[i, f0:f1, :, y0:y0 + h, x0:x0 + w] = 0
        elif kind == 1:  # prediction: first k frames known
            m[i, :gen.randrange(1, T // 2 + 1)] = 1
        elif kind == 2:  # interpolation: first and last k known
            k = gen.randrange(1, T // 4 + 1)
            m[i, :k] = 1
            m[i, T - k:] = 1
        else:  # repair: random frames known
            for f in range(T):
                if gen.random() < 0.7:
                    m[i, f] = 1
    return m


def load_clips(vidi, work, clips, seed, size, frames):
    data = os.path.join(work, "synth")
    if not os.path.exists(os.path.join(data, "validation.json")):
        run([vidi, "synth", "--out", data, "--clips", str(clips), "--seed", str(seed), "--codec", "vp9", "--force"])
    pre = {"do_resize": True, "size": {"shortest_edge": size}, "do_center_crop": True,
           "crop_size": {"height": size, "width": size}, "resample": 2, "do_rescale": True,
           "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
    pre_path = os.path.join(work, "preprocessor_config.json")
    with open(pre_path, "w") as f:
        json.dump(pre, f)
    xs, ys = [], []
    for split in ("train", "validation"):
        out = os.path.join(work, f"{split}-f{frames}s{size}.safetensors")
        if not os.path.exists(out):
            run([vidi, "sample", "--ssv2", data, "--split", split, "--frames", str(frames),
                 "--preprocessor", pre_path, "-o", out])
        with safe_open(out, "pt") as f:
            meta = f.metadata()
            labels = json.loads(meta["labels"])
            xs.append(torch.stack([f.get_tensor(f"clip.{i}.0").half() for i in range(len(labels))]))
            ys.append(torch.tensor(labels))
            classes = json.loads(meta["classes"])
    return torch.cat(xs), torch.cat(ys), classes, len(xs[-1])


def heldout_mse(model, proc, xv, bf16, velocity=False):
    """eps-MSE of the EMA model on fixed held-out clips at fixed t (nothing
    known, true labels): a monitor that does not move with the batch noise
    (a velocity model's eps is derived, so runs of both kinds compare)."""
    g = torch.Generator().manual_seed(5)
    ts = torch.tensor([50, 200, 400, 600, 800, 950])
    tot = 0.0
    with torch.no_grad():
        for tv in ts:
            t = tv.repeat(len(xv[0]))
            x0 = xv[0].float().to(proc.device)
            noise = torch.randn(x0.shape, generator=g).to(proc.device)
            xt = proc.at(proc.sqrt_ac, t) * x0 + proc.at(proc.sqrt_1mac, t) * noise
            with torch.autocast(x0.device.type, dtype=torch.bfloat16, enabled=bf16):
                out = model(xt, t.to(proc.device), xv[1].to(proc.device)).float()
            pred = out[:, :, :x0.shape[2]]
            if velocity:
                pred = proc.at(proc.sqrt_ac, t) * pred + proc.at(proc.sqrt_1mac, t) * xt
            tot += ((pred - noise) ** 2).mean().item()
    return tot / len(ts)


def save_state(path, step, model, ema, opt, gen, wall):
    tmp = path + ".tmp"
    torch.save({"step": step, "model": model.state_dict(), "ema": ema.state_dict(),
                "opt": opt.state_dict(), "gen": gen.getstate(), "torch_rng": torch.get_rng_state(),
                "wall": wall, "prediction": model.cfg.get("prediction", "eps")}, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vidi", default=os.path.join(ROOT, "build/vidi"))
    ap.add_argument("--work", default="/tmp/diffusion-train")
    ap.add_argument("--out", default=os.path.join(ROOT, "samples/models/diffusion-synth.safetensors"))
    ap.add_argument("--clips", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--mlp", type=int, default=384)
    ap.add_argument("--steps", type=int, default=20000, help="total optimiser steps (with --resume: over all runs)")
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--decay-from", type=int, default=0,
                    help="cosine-decay the learning rate from this step to --steps, down to 10%% (0: constant). "
                         "A run that stops on --max-minutes first keeps the rate it reached")
    ap.add_argument("--legacy-masks", action="store_true",
                    help="the in-painting mask mix used before step 18899 of the default run (to rebuild its history)")
    ap.add_argument("--lam", type=float, default=0.001)
    ap.add_argument("--label-drop", type=float, default=0.1,
                    help="fraction of clips trained with the null label (classifier-free guidance)")
    ap.add_argument("--motion-weight", type=float, default=0.0,
                    help="extra weight of the simple term on pixels that move (0: off); see motion_weight()")
    ap.add_argument("--default-guidance", type=float, default=1.0,
                    help="config 'guidance' of the exported model: the classifier-free guidance scale `vidi generate` "
                         "and vidigen use for a labelled clip when none is asked for (1: none); choose it from "
                         "tools/eval_diffusion.py --guidance runs")
    ap.add_argument("--init-from", default=None,
                    help="start a new run (step 0, fresh optimiser) from a vidi model's weights, "
                         "e.g. the shipped one; model and EMA both start there")
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu",
                    help="torch device to train on (cpu, or cuda on a GPU machine; not yet run on a GPU)")
    ap.add_argument("--min-snr", type=float, default=5.0,
                    help="eps: Min-SNR-gamma weight min(SNR, g) / SNR; velocity: min(SNR + 1, g) / (SNR + 1) "
                         "(0: plain L_simple)")
    ap.add_argument("--x0-cap", type=float, default=50.0,
                    help="eps prediction only: also weight the eps loss by min(1/abar, CAP) (0: off)")
    ap.add_argument("--prediction", choices=("velocity", "eps"), default="velocity",
                    help="what the network's first channels predict: the velocity sqrt(abar) eps - "
                         "sqrt(1-abar) x0 (default) or eps; vidi reads it from the config. Resuming an eps "
                         "state with velocity fine-tunes the head to the new target")
    ap.add_argument("--no-bf16", dest="bf16", action="store_false",
                    help="float32 matmuls (default: bf16 autocast, 1.7x faster on AMX/AVX512-BF16 CPUs)")
    ap.add_argument("--no-compile", dest="compile", action="store_false",
                    help="skip torch.compile (default: compile; ~2 min once, ~15%% faster steps)")
    ap.add_argument("--resume", action="store_true",
                    help="continue from WORK/state.pt (model, EMA, optimiser, RNG state, step)")
    ap.add_argument("--save-every", type=int, default=500)
    ap.add_argument("--stop-at", type=int, default=0,
                    help="stop this run at this step, saving the state for --resume, without moving the learning-rate "
                         "schedule's end (--steps); rebuilds a run that was stopped early")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop this run after this long, saving the state for --resume (0: no limit)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    t0 = time.time()
    state_path = os.path.join(args.work, "state.pt")
    if args.resume and args.init_from:
        sys.exit("train_diffusion: --resume and --init-from exclude each other")
    if args.resume and not os.path.exists(state_path):
        sys.exit(f"train_diffusion: --resume: no training state at {state_path} (give --work)")
    os.makedirs(args.work, exist_ok=True)
    x, y, classes, n_val = load_clips(args.vidi, args.work, args.clips, args.seed, args.size, args.frames)
    xv = (x[-n_val:][::n_val // 48][:48], y[-n_val:][::n_val // 48][:48])
    x, y = x[:-n_val], y[:-n_val]
    log(f"data: {len(x)} training clips {tuple(x.shape[1:])} in [{x.min():.2f}, {x.max():.2f}], "
        f"{len(xv[0])} held-out monitor clips [{time.time() - t0:.0f}s]")

    cfg = {"frames": args.frames, "image_size": args.size, "channels": 3, "patch": args.patch,
           "hidden": args.hidden, "heads": args.heads, "depth": args.depth, "mlp_dim": args.mlp,
           "freq_dim": 64, "num_classes": len(classes), "learn_sigma": True, "inpaint": True,
           "diffusion_steps": 1000, "noise_schedule": "cosine", "ln_eps": 1e-6, "labels": classes,
           "prediction": args.prediction}
    if args.default_guidance != 1.0:
        cfg["guidance"] = args.default_guidance
    velocity = args.prediction == "velocity"
    model = Denoiser(cfg)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params} parameters, {model.pos_embed.shape[0]} tokens")
    model.to(args.device)
    ema.to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    proc = Process(1000, args.device)
    gen = random.Random(1)
    null = len(classes)
    step, wall = 0, 0.0
    if args.resume:
        st = torch.load(state_path, weights_only=False, map_location=args.device)
        model.load_state_dict(st["model"])
        ema.load_state_dict(st["ema"])
        opt.load_state_dict(st["opt"])
        gen.setstate(st["gen"])
        torch.set_rng_state(st["torch_rng"].cpu())
        step, wall = st["step"], st["wall"]
        was = st.get("prediction", "eps")
        if was != args.prediction:
            # The EMA of the old target's weights would lag the switch by ~1/(1-ema) steps.
            ema.load_state_dict(model.state_dict())
        log(f"resumed from {state_path} at step {step} ({wall / 60:.1f} min of training before)"
            + (f"; the state predicted {was}, training on as {args.prediction} (EMA restarted)" if was != args.prediction else ""))
    if args.init_from:
        try:
            init = load_vidi(args.init_from)
        except Exception as e:  # missing file, not safetensors, not a vidi diffusion model
            sys.exit(f"train_diffusion: --init-from {args.init_from}: {e}")
        arch = [k for k in cfg if k not in ("labels", "guidance")]
        same = {k: init.cfg.get(k) for k in arch} == {k: cfg[k] for k in arch}
        if not same or init.cfg["labels"] != cfg["labels"]:
            sys.exit(f"train_diffusion: --init-from {args.init_from}: its config differs from this run's "
                     f"({json.dumps(init.cfg, sort_keys=True)})")
        model.load_state_dict(init.state_dict())
        ema.load_state_dict(init.state_dict())
        log(f"initialised model and EMA from {args.init_from} (a new run: step 0, fresh optimiser)")
    fwd = torch.compile(model) if args.compile else model
    t_train, hist = time.time(), []
    while step < args.steps:
        if args.max_minutes and time.time() - t_train > args.max_minutes * 60:
            log(f"time limit: stopping at step {step}")
            break
        if args.stop_at and step >= args.stop_at:
            log(f"--stop-at: stopping at step {step}")
            break
        idx = torch.randint(0, len(x), (args.bs,))
        xb, yb = x[idx].float(), y[idx].clone()
        for table, dim in ((HFLIP, 4), (REVERSE, 1)):
            m = torch.rand(args.bs) < 0.5
            if m.any():
                xb[m] = xb[m].flip(dim)
                yb[m] = torch.tensor(table)[yb[m]]
        yb[torch.rand(args.bs) < args.label_drop] = null
        mask = random_masks(args.bs, args.frames, args.size, gen, args.legacy_masks)
        lr = args.lr * min(1.0, (step + 1) / 200)
        if args.decay_from and step >= args.decay_from:
            # A constant rate leaves the weights rattling around the minimum; decaying it at the
            # end of the run is the cheap way to settle them (the EMA alone averages only ~1000 steps).
            frac = min(1.0, (step - args.decay_from) / max(1, args.steps - args.decay_from))
            lr = args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        xb, yb, mask = xb.to(args.device), yb.to(args.device), mask.to(args.device)
        loss, mse, vlb = hybrid_loss(fwd, proc, xb, yb, mask, args.lam, args.bf16, args.min_snr, args.x0_cap,
                                     velocity, args.motion_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            decay = min(args.ema, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm, alpha=1 - decay)
        hist.append((mse, vlb))
        step += 1
        if step % 100 == 0:
            a = np.mean(hist[-100:], axis=0)
            log(f"step {step}: mse {a[0]:.4f} vlb {a[1]:.4f} lr {lr:.2e} "
                f"[{(wall + time.time() - t_train) / 60:.1f} min]")
        if step % args.save_every == 0:
            log(f"step {step}: held-out eps-MSE (EMA) {heldout_mse(ema, proc, xv, args.bf16, velocity):.4f}")
            save_vidi(ema, args.out)
            save_state(state_path, step, model, ema, opt, gen, wall + time.time() - t_train)
    wall += time.time() - t_train
    save_vidi(ema, args.out)
    save_state(state_path, step, model, ema, opt, gen, wall)
    log(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) at step {step}, "
        f"{wall / 60:.1f} min of training in all, this run {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
