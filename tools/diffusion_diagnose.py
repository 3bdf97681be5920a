#!/usr/bin/env python3
"""Why a vidi diffusion model samples badly: two measurements on held-out clips,
run by hand with PyTorch (the same model as vidi, tools/diffusion_reference.py).

  python3 tools/diffusion_diagnose.py --model M --data WORK/validation-f16s32.safetensors

--data is the held-out tensor file tools/train_diffusion.py writes into its
--work folder (clips in [-1, 1], the model's framing).

1. Per timestep, on the true forward process (x_t = sqrt(abar) x0 + sqrt(1-abar) eps):
   the eps-MSE and the RMSE of pred_x0 = (x_t - sqrt(1-abar) eps_hat) / sqrt(abar),
   clamped to [-1, 1], on the pixels the model must produce, for generation
   (nothing known) and for future-frame prediction (the first half known). A
   small eps error at high noise is amplified 1/sqrt(abar) times in pred_x0:
   this is where a mosaic shared by every sample comes from (docs/diffusion.md).
2. Along a DDIM (eta 0) trajectory from seeded noise (or, with --trace-start T,
   from the held-out clip noised to the first step at or below T): the RMSE of each step's
   pred_x0 against the held-out clip, for future-frame prediction (or
   generation with --trace-task gen, where the clip is only a yardstick). On the
   forward process the error falls as t falls; a trajectory whose error grows
   step by step drifts off the data the model was trained on (exposure bias),
   and the sample ends wherever the drift takes it. The known pixels of x_t are
   put back on the forward process before every step, as vidi's conditioned
   in-painting does (vidi_sample_params.known); --free-known lets them follow
   the model's outputs instead, as vidi did before 2026-12-03.
"""
import argparse
import json
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusion_reference import eps_from_velocity, load_vidi  # noqa: E402
from train_diffusion import REVERSE, Process, motion_weight  # noqa: E402


def prediction_mask(n, T, S, task):
    m = torch.zeros(n, T, 1, S, S)
    if task == "predict":
        m[:, :T // 2] = 1
    elif task == "box":  # the centre quarter unknown in every frame (eval_diffusion.py's box)
        m[:] = 1
        m[..., S // 4:S - S // 4, S // 4:S - S // 4] = 0
    return m


def model_eps(model, xt, t, y, known, mask, abar):
    """The model's eps (a velocity model's converted, as vidi does); y one
    label for every clip, or a tensor of labels."""
    C = xt.shape[2]
    y = y if torch.is_tensor(y) else torch.full((xt.shape[0],), y)
    out = model(xt, torch.full((xt.shape[0],), t), y, known, mask)[:, :, :C]
    return eps_from_velocity(out, xt, abar) if model.cfg.get("prediction", "eps") == "velocity" else out


def x0_from_eps(xt, eps, a):
    return ((xt - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)


def per_timestep(model, x0, null, args):
    n, T, C, S = x0.shape[0], x0.shape[1], x0.shape[2], x0.shape[3]
    ac = Process(1000).sqrt_ac.float() ** 2
    g = torch.Generator().manual_seed(args.seed)
    print("| t | abar | task | eps-MSE | pred_x0 RMSE |\n|---|---|---|---|---|")
    with torch.no_grad():
        for t in args.timesteps:
            noise = torch.randn(x0.shape, generator=g)
            a = ac[t]
            xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
            for task in ("gen", "predict", "box"):
                m = prediction_mask(n, T, S, task)
                eps = model_eps(model, xt, t, null, x0, m, a.item())
                unk = (m < 0.5).expand_as(x0)
                mse = ((eps - noise) ** 2)[unk].mean().item()
                rmse = ((x0_from_eps(xt, eps, a) - x0) ** 2)[unk].mean().sqrt().item()
                print(f"| {t} | {a.item():.2e} | {task} | {mse:.4f} | {rmse:.3f} |")


def trace(model, x0, null, args):
    x0 = x0[:1]
    T, C, S = x0.shape[1], x0.shape[2], x0.shape[3]
    ac = Process(1000).sqrt_ac.double() ** 2
    ts = [t for t in list(range(0, 1000, 1000 // args.steps))[::-1] if t <= args.trace_start]
    m = prediction_mask(1, T, S, args.trace_task)
    unk = (m < 0.5).expand_as(x0)
    g = torch.Generator().manual_seed(args.seed)
    x = torch.randn(x0.shape, generator=g)
    if args.trace_start < 999:  # from the true forward process at the first step's t
        a0 = ac[ts[0]].float()
        x = a0.sqrt() * x0 + (1 - a0).sqrt() * x
    print(f"\nDDIM {len(ts)} steps from t = {ts[0]}{' (noised held-out clip)' if args.trace_start < 999 else ''}, "
          f"{args.trace_task}: pred_x0 against the held-out clip on the unknown pixels")
    print("| step | t | pred_x0 RMSE | pred_x0 mean colour (RGB) |\n|---|---|---|---|")
    with torch.no_grad():
        for i, t in enumerate(ts):
            a = ac[t]
            if not args.free_known:  # the training distribution of the known pixels
                xq = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn(x0.shape, generator=g, dtype=torch.float64)
                x = torch.where(m.expand_as(x0) > 0.5, xq.float(), x)
            eps = model_eps(model, x, t, null, x0, m, a.item()).double()
            ap = ac[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0, dtype=torch.float64)
            px0 = ((x.double() - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)
            if i % args.every == 0 or i == len(ts) - 1:
                rmse = ((px0.float() - x0) ** 2)[unk].mean().sqrt().item()
                colour = [px0[0, :, c][unk[0, :, c]].mean().item() for c in range(C)]
                print(f"| {i} | {t} | {rmse:.3f} | {' '.join(f'{c:+.2f}' for c in colour)} |")
            eps = (x.double() - a.sqrt() * px0) / (1 - a).sqrt()
            x = (ap.sqrt() * px0 + (1 - ap).sqrt() * eps).float()
    truth = [x0[0, :, c][unk[0, :, c]].mean().item() for c in range(C)]
    print(f"held-out clip's mean colour there: {' '.join(f'{c:+.2f}' for c in truth)}")


def label_probe(model, x0, labels, args):
    """How much the model leans on its label: pred_x0 MSE on held-out clips with
    the true label, the time-reversed one (left/right, up/down, turn, grow,
    appear swapped) and the null label, on all pixels and on the moving ones
    (train_diffusion.motion_weight). A model that draws the labelled motion
    does clearly worse with the reversed label on the moving pixels."""
    ac = Process(1000).sqrt_ac.float() ** 2
    g = torch.Generator().manual_seed(args.seed)
    rev = torch.tensor(REVERSE)[labels]
    null = torch.full_like(labels, model.cfg["num_classes"])
    moving = motion_weight(x0, 1.0) - 1
    print("\nlabel probe: pred_x0 MSE with the true / time-reversed / null label (4 noise draws)")
    print("| t | all pixels: true | reversed | null | moving pixels: true | reversed | null |\n|---|---|---|---|---|---|---|")
    with torch.no_grad():
        for t in args.timesteps:
            a = ac[t]
            tot = torch.zeros(2, 3)
            for _ in range(4):
                noise = torch.randn(x0.shape, generator=g)
                xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
                for j, y in enumerate((labels, rev, null)):
                    eps = model_eps(model, xt, t, y, None, None, a.item())
                    err = (x0_from_eps(xt, eps, a) - x0) ** 2
                    tot[0, j] += err.mean() / 4
                    tot[1, j] += (err * moving).sum() / moving.sum().clamp(min=1) / 4
            print(f"| {t} | " + " | ".join(f"{v:.4f}" for v in tot.flatten().tolist()) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="a vidi diffusion model (.safetensors)")
    ap.add_argument("--data", required=True, help="held-out clips: WORK/validation-f*s*.safetensors")
    ap.add_argument("--clips", type=int, default=8, help="held-out clips for the per-timestep table")
    ap.add_argument("--timesteps", type=int, nargs="+", default=[999, 950, 900, 800, 700, 500, 300, 100])
    ap.add_argument("--steps", type=int, default=50, help="DDIM steps of the trajectory")
    ap.add_argument("--every", type=int, default=5, help="print every N-th trajectory step")
    ap.add_argument("--trace-task", choices=("predict", "gen", "box"), default="predict")
    ap.add_argument("--trace-start", type=int, default=999,
                    help="start the trajectory at this t from the held-out clip noised by the forward process "
                         "(default 999: from pure noise)")
    ap.add_argument("--free-known", action="store_true",
                    help="let the known pixels of x_t follow the model's outputs (vidi before 2026-12-03)")
    ap.add_argument("--label-probe", action="store_true",
                    help="only the label probe: does the model's error depend on its label (true, reversed, null)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not os.path.exists(args.data):
        sys.exit(f"diffusion_diagnose: {args.data}: no such file (tools/train_diffusion.py writes it into --work)")
    model = load_vidi(args.model).eval()
    c = model.cfg
    d = load_file(args.data)
    n = min(args.clips, sum(1 for k in d if k.startswith("clip.")))
    x0 = torch.stack([d[f"clip.{i}.0"] for i in range(n)]).float()
    if tuple(x0.shape[1:]) != (c["frames"], c["channels"], c["image_size"], c["image_size"]):
        sys.exit(f"diffusion_diagnose: {args.data}: clips {tuple(x0.shape[1:])} do not match the model's "
                 f"({c['frames']}, {c['channels']}, {c['image_size']}, {c['image_size']})")
    if args.label_probe:
        labels = torch.tensor(json.loads(safe_open(args.data, "pt").metadata()["labels"])[:n])
        label_probe(model, x0, labels, args)
        return
    null = c["num_classes"]  # the null label row: what in-painting and unconditional generation use
    per_timestep(model, x0, null, args)
    trace(model, x0, null, args)


if __name__ == "__main__":
    main()
