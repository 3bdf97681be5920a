#!/usr/bin/env python3
"""Quality figures of a vidi diffusion model, measured through vidi itself
(issue 7; docs/diffusion.md). Everything the model produces comes from the
`vidi` binary; numpy only scores.

  python3 tools/eval_diffusion.py --vidi build/vidi --model samples/models/diffusion-synth.safetensors \\
      --classifier samples/models/vivit-synth.safetensors --clips-per-label 10 --steps 50

Generation (needs --classifier, a ViViT trained on the same synth classes):
  `vidi generate --label L --seed k` for every label, then `vidi classify --json`
  on the clips: top-1 per label and overall (target >= 80% at 50 steps); a
  diversity figure: mean pairwise RMS distance between clips of one label
  (decoded by `vidi frames`). --ancestral-1000 repeats the
  top-1 with 1000-step ancestral sampling.
In-painting (held-out synth clips, rendered with another seed than training):
  `vidi inpaint` with a box over all frames, future-frame prediction (predict:T/2)
  and interpolation (interpolate:T/4), the result read back losslessly (PNGs),
  PSNR and SSIM on the masked pixels against the ground truth (`vidi frames`,
  same framing), next to three baselines computed here: nearest known frame,
  linear blend between the known frames around a gap, and blur fill (harmonic
  fill from the mask boundary within the frame). vidi must beat every baseline.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image
from safetensors import safe_open


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def model_config(path):
    with safe_open(path, "np") as f:
        return json.loads(f.metadata()["config"])


def load_pngs(d, n):
    return np.stack([np.asarray(Image.open(os.path.join(d, f"frame_{i:06d}.png")).convert("RGB"), dtype=np.float64)
                     / 255.0 for i in range(n)])  # [T, H, W, 3]


def load_pngs_any(d):
    return np.stack([np.asarray(Image.open(p).convert("RGB"), dtype=np.float64) / 255.0
                     for p in sorted(glob.glob(os.path.join(d, "frame_*.png")))])


def ground_truth(vidi, video, T, S, work):
    """Frames 0..T-1, shorter side S, centre crop: what `vidi inpaint` reads."""
    d = os.path.join(work, "gt-" + os.path.basename(video))
    run([vidi, "frames", video, "--indices", ",".join(map(str, range(T))), "--shorter", str(S), "-o", d])
    frames = [np.asarray(Image.open(p).convert("RGB"), dtype=np.float64) / 255.0
              for p in sorted(glob.glob(os.path.join(d, "frame_*.png")))[:T]]
    h, w = frames[0].shape[:2]
    y0, x0 = (h - S) // 2, (w - S) // 2
    return np.stack([f[y0:y0 + S, x0:x0 + S] for f in frames])


def mask_for(kind, T, S):
    """1 = known, [T, S, S], as vidi's mask specs define them."""
    m = np.ones((T, S, S))
    if kind == "box":
        b = S // 4
        m[:, b:S - b, b:S - b] = 0
        return m, f"box:{b},{b},{S - 2 * b},{S - 2 * b}"
    if kind == "predict":
        m[T // 2:] = 0
        return m, f"predict:{T // 2}"
    k = max(1, T // 4)
    m[k:T - k] = 0
    return m, f"interpolate:{k}"


# ---- baselines ----

def nearest_frame(x, m):
    """Each unknown pixel from the nearest frame (in time) where it is known;
    pixels unknown in every frame (a box over the whole clip) get blur fill."""
    out = blur_fill(x, m)
    T = x.shape[0]
    for t in range(T):
        for yx in zip(*np.nonzero(m[t] < 0.5)):
            known = [s for s in range(T) if m[s][yx] > 0.5]
            if known:
                out[t][yx] = x[min(known, key=lambda s: (abs(s - t), s))][yx]
    return out


def linear_blend(x, m):
    """Linear in time between the known frames around a gap (the nearest one
    past either end); pixels unknown in every frame get blur fill."""
    out = blur_fill(x, m)
    T = x.shape[0]
    for t in range(T):
        for yx in zip(*np.nonzero(m[t] < 0.5)):
            prev = next((s for s in range(t - 1, -1, -1) if m[s][yx] > 0.5), None)
            nxt = next((s for s in range(t + 1, T) if m[s][yx] > 0.5), None)
            if prev is not None and nxt is not None:
                a = (t - prev) / (nxt - prev)
                out[t][yx] = (1 - a) * x[prev][yx] + a * x[nxt][yx]
            elif prev is not None or nxt is not None:
                out[t][yx] = x[prev if prev is not None else nxt][yx]
    return out


def blur_fill(x, m, iters=400):
    """Harmonic fill inside each frame; frames with nothing known copy the nearest filled frame."""
    out = x * m[..., None]
    T = x.shape[0]
    for t in range(T):
        unk = m[t] < 0.5
        if unk.all():
            continue
        f = out[t].copy()
        f[unk] = x[t][~unk].mean(axis=0)
        for _ in range(iters):
            p = np.pad(f, ((1, 1), (1, 1), (0, 0)), mode="edge")
            avg = (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) / 4
            f[unk] = avg[unk]
        out[t] = f
    filled = [t for t in range(T) if not (m[t] < 0.5).all()]
    for t in range(T):
        if (m[t] < 0.5).all() and filled:
            out[t] = out[min(filled, key=lambda s: abs(s - t))]
    return out


# ---- scores on the masked pixels ----

def psnr(a, b, m):
    sel = m < 0.5
    mse = ((a - b) ** 2)[sel].mean()
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def ssim_map(a, b):
    """SSIM (Wang et al.) per pixel on grey frames, 7x7 uniform window."""
    from numpy.lib.stride_tricks import sliding_window_view as win
    ga, gb = a @ [0.299, 0.587, 0.114], b @ [0.299, 0.587, 0.114]
    c1, c2 = 0.01 ** 2, 0.03 ** 2

    def mean(z):
        p = np.pad(z, 3, mode="reflect")
        return win(p, (7, 7)).mean(axis=(-1, -2))
    ma, mb = mean(ga), mean(gb)
    va, vb, cov = mean(ga * ga) - ma ** 2, mean(gb * gb) - mb ** 2, mean(ga * gb) - ma * mb
    return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))


def ssim(a, b, m):
    return np.mean([ssim_map(a[t], b[t])[m[t] < 0.5].mean() for t in range(len(a)) if (m[t] < 0.5).any()])


def inpainting(args, cfg, work):
    T, S = cfg["frames"], cfg["image_size"]
    data = os.path.join(work, "heldout")
    if not os.path.exists(os.path.join(data, "validation.json")):
        run([args.vidi, "synth", "--out", data, "--clips", str(args.heldout_clips), "--seed", "77", "--frames",
             str(max(T, 8)), "--force"])
    videos = sorted(glob.glob(os.path.join(data, "*.webm")))[:args.heldout_clips]
    rows = {}
    for kind in ("box", "predict", "interpolate"):
        m, spec = mask_for(kind, T, S)
        scores = {k: [] for k in ("vidi", "nearest frame", "linear blend", "blur fill")}
        for i, v in enumerate(videos):
            gt = ground_truth(args.vidi, v, T, S, work)
            out = os.path.join(work, f"inpaint-{kind}-{i}")
            run([args.vidi, "inpaint", "--model", args.model, "--mask", spec, "--steps", str(args.steps), "--seed",
                 str(i), "--sampler", args.sampler, "--threads", str(args.threads), "--known-guidance",
                 str(args.known_guidance), "-q", v, "-o", out])
            got = load_pngs(out, T)
            for name, est in (("vidi", got), ("nearest frame", nearest_frame(gt, m)),
                              ("linear blend", linear_blend(gt, m)), ("blur fill", blur_fill(gt, m))):
                scores[name].append((psnr(est, gt, m), ssim(est, gt, m)))
        rows[f"{kind} ({spec})"] = {k: np.mean(v, axis=0) for k, v in scores.items()}
    print("\n| mask | " + " | ".join(f"{k} PSNR / SSIM" for k in next(iter(rows.values()))) + " |")
    print("|---" * (1 + len(next(iter(rows.values())))) + "|")
    for mask, r in rows.items():
        print(f"| {mask} | " + " | ".join(f"{p:.2f} dB / {s:.3f}" for p, s in r.values()) + " |")
    beaten = all(r["vidi"][0] > max(v[0] for k, v in r.items() if k != "vidi") for r in rows.values())
    print(f"vidi beats every baseline on PSNR: {'yes' if beaten else 'NO'}")


def classify(args, files):
    r = subprocess.run([args.vidi, "classify", "--model", args.classifier, "--json"] + files, capture_output=True,
                       text=True)
    pred = [json.loads(line)["top"][0]["index"] for line in r.stdout.splitlines() if line.startswith("{")]
    if len(pred) != len(files):
        sys.exit(f"vidi classify returned {len(pred)} results for {len(files)} clips: {r.stderr[-500:]}")
    return np.array(pred)


def reference(args, cfg, work):
    """The classifier's top-1 on real held-out clips brought to the diffusion
    model's framing (T frames, shorter side S, centre crop) and written as
    generated clips are (h264, crf 10): the ceiling generated clips are
    measured against (a small frame loses detail the classifier uses)."""
    T, S = cfg["frames"], cfg["image_size"]
    data = os.path.join(work, "reference")
    if not os.path.exists(os.path.join(data, "validation.json")):
        run([args.vidi, "synth", "--out", data, "--clips", str(args.reference_clips), "--seed", "78", "--frames",
             str(max(T, 8)), "--force"])
    with open(os.path.join(data, "labels.json")) as f:
        index = {k: int(v) for k, v in json.load(f).items()}
    entries = []
    for split in ("train", "validation"):
        with open(os.path.join(data, f"{split}.json")) as f:
            entries += json.load(f)
    files, truth = [], []
    for e in entries:
        v = os.path.join(data, e["id"] + ".webm")
        frames = ground_truth(args.vidi, v, T, S, work)
        d = os.path.join(work, f"ref-{e['id']}")
        os.makedirs(d, exist_ok=True)
        for i, fr in enumerate(frames):
            Image.fromarray((fr * 255 + 0.5).astype(np.uint8)).save(os.path.join(d, f"frame_{i:06d}.png"))
        out = d + ".mp4"
        run(["ffmpeg", "-v", "error", "-y", "-framerate", "12", "-i", os.path.join(d, "frame_%06d.png"),
             "-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p", out])
        files.append(out)
        truth.append(index[e["template"].replace("[", "").replace("]", "")])
    truth = np.array(truth)
    pred = classify(args, files)
    print(f"\nreference: the classifier on {len(files)} real held-out clips at {T} frames {S}x{S}: "
          f"top-1 {100 * (pred == truth).mean():.1f}%")
    return 100 * (pred == truth).mean()


def generation(args, cfg, work, sampler, steps, tag, per_label):
    labels = cfg.get("labels") or [str(i) for i in range(cfg["num_classes"])]
    files, truth = [], []
    for li in range(len(labels)):
        for k in range(per_label):
            out = os.path.join(work, f"gen-{tag}-{li}-{k}.mp4")
            run([args.vidi, "generate", "--model", args.model, "--label", str(li), "--seed", str(k), "--steps",
                 str(steps), "--sampler", sampler, "--threads", str(args.threads), "-q", "-o", out]
                + (["--guidance", str(args.guidance)] if args.guidance is not None else []))
            files.append(out)
            truth.append(li)
    truth, pred = np.array(truth), classify(args, files)
    scale = args.guidance if args.guidance is not None else f"{cfg.get('guidance', 1.0)} (the model's)"
    print(f"\ngeneration ({sampler}, {steps} steps, guidance {scale}): top-1 {100 * (pred == truth).mean():.1f}%"
          f" over {len(files)} clips")
    T = cfg["frames"]
    div = []
    for li, name in enumerate(labels):
        clips = []
        for f in [f for f, t in zip(files, truth) if t == li]:
            d = f + ".frames"
            run([args.vidi, "frames", f, "--indices", ",".join(map(str, range(T))), "-o", d])
            clips.append(load_pngs_any(d))
        pairs = [np.sqrt(((a - b) ** 2).mean()) for i, a in enumerate(clips) for b in clips[i + 1:]]
        div.append(np.mean(pairs) if pairs else float("nan"))
        seen = np.bincount(pred[truth == li], minlength=len(labels))
        print(f"  {name}: top-1 {100 * (pred[truth == li] == li).mean():.0f}%, diversity {div[-1]:.3f}; "
              f"most often classified as '{labels[int(seen.argmax())]}' ({seen.max()} of {seen.sum()})")
    print(f"diversity (mean pairwise RMS distance between clips of one label, pixels in [0, 1]): {np.nanmean(div):.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vidi", default="build/vidi")
    ap.add_argument("--model", default="samples/models/diffusion-synth.safetensors")
    ap.add_argument("--classifier", default=None)
    ap.add_argument("--work", default="/tmp/diffusion-eval")
    ap.add_argument("--clips-per-label", type=int, default=10)
    ap.add_argument("--heldout-clips", type=int, default=24)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--guidance", type=float, default=None,
                    help="vidi generate --guidance (default: not passed, so the model's recommended scale)")
    ap.add_argument("--known-guidance", type=float, default=1.0, help="vidi inpaint --known-guidance (in-painting)")
    ap.add_argument("--sampler", default="ddpm", help="ddpm, ddim or dpm++ (the 50-step runs)")
    ap.add_argument("--threads", type=int, default=0, help="vidi's threads (0: all cores)")
    ap.add_argument("--reference-clips", type=int, default=0,
                    help="also classify this many real held-out clips at the model's framing (the ceiling)")
    ap.add_argument("--skip-generation", action="store_true")
    ap.add_argument("--ancestral-1000", action="store_true")
    ap.add_argument("--ancestral-clips-per-label", type=int, default=2)
    ap.add_argument("--skip-inpainting", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cfg = model_config(args.model)
    if args.classifier and args.reference_clips:
        reference(args, cfg, args.work)
    if args.classifier and not args.skip_generation:
        generation(args, cfg, args.work, args.sampler, args.steps, "s", args.clips_per_label)
        if args.ancestral_1000:
            generation(args, cfg, args.work, "ddpm", 1000, "a", args.ancestral_clips_per_label)
    elif not args.classifier:
        print("generation top-1: skipped (no --classifier)")
    if not args.skip_inpainting:
        inpainting(args, cfg, args.work)


if __name__ == "__main__":
    main()
