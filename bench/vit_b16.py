#!/usr/bin/env python3
"""ViT-B/16 forward on CPU: vidi vs PyTorch eager, plus the machine's BLAS sgemm rate.

One run does, in this order:
  1. build (once, cached under --cache) a Hugging Face ViTForImageClassification with
     the ViT-B/16 config and seeded random weights, saved as a HF directory
     (config.json + model.safetensors + preprocessor_config.json);
  2. check both engines compute the same function: `vidi classify --json` on a fixed
     PNG vs the PyTorch model on the ViTImageProcessor output for the same PNG;
  3. per round: `vidi bench --json` (subprocess), then PyTorch eager in this process
     (and torch.compile with --compile), back to back, same warmup/iters, medians;
  4. `bench_sgemm --threads T --json` (bench/sgemm.c): the linked BLAS's sgemm GFLOP/s;
  5. a table on stdout and a JSON summary (--json-out).

Goals (from the issue): vidi GFLOP/s >= 0.85 x square sgemm GFLOP/s, and vidi >= 2.5x
faster than PyTorch eager.

No network: the model is random-init from a config, never downloaded.

  python3 bench/vit_b16.py --threads 2 --iters 30 --warmup 3 --rounds 3 \
      --vidi build-bench/vidi --sgemm build-bench/bench_sgemm --json-out /tmp/vit_b16.json
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ViT-B/16 at 224: multiply-accumulates per forward, counted by hand so the number vidi
# prints can be checked against something it did not compute itself.
N_TOK, D, D_MLP, N_LAYERS, N_HEADS, PATCH, N_LABELS = 197, 768, 3072, 12, 12, 16, 1000


def vit_b16_macs():
    patch_embed = (N_TOK - 1) * D * (3 * PATCH * PATCH)
    per_layer = (N_TOK * D * 3 * D          # qkv
                 + 2 * N_TOK * N_TOK * D    # q.k^T and p.v over all heads
                 + N_TOK * D * D            # attention output projection
                 + 2 * N_TOK * D * D_MLP)   # fc1 + fc2
    head = D * N_LABELS
    return patch_embed + N_LAYERS * per_layer + head


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def resolve(path):
    """A relative binary path is tried from the cwd, then from the repository root."""
    if os.path.isabs(path) or os.path.exists(path):
        return os.path.abspath(path)
    return os.path.join(REPO, path)


def make_model(cache, seed):
    """The HF directory for random-init ViT-B/16, built once per (cache, seed)."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    out = os.path.join(cache, f"vit-b16-random-seed{seed}")
    if os.path.exists(os.path.join(out, "model.safetensors")):
        return out
    log(f"creating random ViT-B/16 in {out}")
    cfg = ViTConfig(image_size=224, patch_size=PATCH, num_channels=3, hidden_size=D,
                    num_hidden_layers=N_LAYERS, num_attention_heads=N_HEADS,
                    intermediate_size=D_MLP, hidden_act="gelu", layer_norm_eps=1e-12,
                    qkv_bias=True, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                    num_labels=N_LABELS)
    torch.manual_seed(seed)
    model = ViTForImageClassification(cfg).eval()
    tmp = out + ".tmp"
    model.save_pretrained(tmp, safe_serialization=True)
    ViTImageProcessor().save_pretrained(tmp)  # 224x224 bilinear, mean = std = 0.5
    os.replace(tmp, out)
    return out


def make_image(cache, seed):
    """A fixed 224x224 RGB PNG: smooth gradients plus noise, so every logit matters and
    neither engine's resize is exercised (224 in, 224 out)."""
    import numpy as np
    from PIL import Image

    path = os.path.join(cache, f"input-seed{seed}.png")
    if not os.path.exists(path):
        rng = np.random.default_rng(seed)
        y, x = np.mgrid[0:224, 0:224].astype(np.float32) / 223.0
        base = np.stack([x, y, 0.5 + 0.5 * np.sin(6.0 * (x + y))], axis=-1) * 200.0
        img = np.clip(base + rng.normal(0.0, 25.0, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img, "RGB").save(path)
    return path


def run_json(cmd, what):
    log("$ " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{what} failed (exit {p.returncode}):\n{p.stderr.strip()}")
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        sys.exit(f"{what}: could not parse JSON from:\n{p.stdout}")


def parity(vidi, model_dir, image, model, threads):
    """Max |logit difference| between vidi classify and PyTorch on the same PNG."""
    import numpy as np
    import torch
    from PIL import Image
    from transformers import ViTImageProcessor

    got = run_json([vidi, "classify", "--model", model_dir, "--threads", str(threads), "--json",
                    "--top-k", "5", image], "vidi classify")
    ours = np.array(got["logits"], dtype=np.float64)
    proc = ViTImageProcessor.from_pretrained(model_dir)
    pixels = proc(images=Image.open(image).convert("RGB"), return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        ref = model(pixel_values=pixels).logits[0].double().numpy()
    diff = np.abs(ours - ref)
    return {
        "max_abs_diff": float(diff.max()),
        "max_logit_abs": float(np.abs(ref).max()),
        # relative to the logit scale: elementwise relative error is meaningless near 0
        "max_rel_diff": float(diff.max() / np.abs(ref).max()),
        "top5_vidi": [int(t["index"]) for t in got["top"]],
        "top5_torch": [int(i) for i in np.argsort(-ref)[:5]],
    }


def time_torch(fn, x, iters, warmup):
    import torch

    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            fn(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
            "mean_ms": statistics.fmean(times)}


GEMM_SHAPES = [(1024, 1024, 1024, "square"), (2048, 2048, 2048, "square"),
               (197, 768, 2304, "vit-b qkv"), (197, 768, 768, "vit-b attn proj"),
               (197, 768, 3072, "vit-b mlp fc1"), (197, 3072, 768, "vit-b mlp fc2")]


def torch_gemm_rates(min_time=0.5):
    """PyTorch's own x @ W^T rate at the shapes bench/sgemm.c times: the GEMM ceiling
    PyTorch eager runs against (its BLAS, often MKL, not the one vidi links)."""
    import torch

    out = []
    gen = torch.Generator().manual_seed(1)
    for m, k, n, what in GEMM_SHAPES:
        a, w = torch.rand(m, k, generator=gen), torch.rand(n, k, generator=gen)
        with torch.inference_mode():
            for _ in range(2):
                torch.matmul(a, w.t())
            runs, start = [], time.perf_counter()
            while len(runs) < 5 or time.perf_counter() - start < min_time:
                t0 = time.perf_counter()
                torch.matmul(a, w.t())
                runs.append(time.perf_counter() - t0)
        sec = statistics.median(runs)
        out.append({"shape": what, "m": m, "k": k, "n": n, "ms": sec * 1e3, "gflops": 2 * m * k * n / sec / 1e9})
    return out


def machine_info():
    info = {"nproc": os.cpu_count(), "platform": platform.platform(),
            "loadavg_at_start": list(os.getloadavg())}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
            if line.startswith("Flags:"):
                flags = line.split()
                info["simd"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
                                if f in flags]
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout)
    except (OSError, ValueError):
        pass
    return info


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except OSError:
        return "unknown"


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vidi", default="build/vidi", help="vidi binary (default build/vidi)")
    ap.add_argument("--sgemm", default="build/bench_sgemm", help="bench_sgemm binary (default build/bench_sgemm)")
    ap.add_argument("--cache", default="/tmp/vidi-bench", help="where the random model and PNG are kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1,
                    help="vidi-then-PyTorch rounds, back to back; the summary takes the median round")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile(model)")
    ap.add_argument("--skip-sgemm", action="store_true")
    ap.add_argument("--skip-parity", action="store_true")
    ap.add_argument("--json-out", help="write the summary JSON here")
    args = ap.parse_args()

    import torch
    import transformers
    from transformers import ViTForImageClassification

    vidi = resolve(args.vidi)
    sgemm = resolve(args.sgemm)
    os.makedirs(args.cache, exist_ok=True)
    model_dir = make_model(args.cache, args.seed)
    image = make_image(args.cache, args.seed)

    torch.set_num_threads(args.threads)
    model = ViTForImageClassification.from_pretrained(model_dir).eval()
    analytic_gflop = 2 * vit_b16_macs() / 1e9

    summary = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([os.path.relpath(sys.argv[0], REPO) if sys.argv[0].startswith(REPO)
                             else sys.argv[0]] + sys.argv[1:]),
        "model": "ViT-B/16, 224x224, batch 1, random weights (HF ViTForImageClassification)",
        "threads": args.threads, "iters": args.iters, "warmup": args.warmup, "rounds": args.rounds,
        "machine": machine_info(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "vidi_git": git_rev()},
        "torch_threads": {"num_threads": torch.get_num_threads(),
                          "num_interop_threads": torch.get_num_interop_threads(),
                          "mkldnn": torch.backends.mkldnn.is_available(),
                          "parallel_info": torch.__config__.parallel_info().strip().splitlines()},
        "analytic_gflop": analytic_gflop,
    }

    if not args.skip_parity:
        summary["parity"] = parity(vidi, model_dir, image, model, args.threads)

    compiled = None
    if args.compile:
        log("torch.compile: compiling (first call)")
        compiled = torch.compile(model)
        with torch.inference_mode():
            compiled(torch.zeros(1, 3, 224, 224))

    gen = torch.Generator().manual_seed(args.seed)
    x = torch.randn(1, 3, 224, 224, generator=gen)
    rounds = []
    for r in range(args.rounds):
        if r:
            time.sleep(1.0)  # let OpenMP workers from the last PyTorch run go idle
        rv = run_json([vidi, "bench", "--model", model_dir, "--threads", str(args.threads),
                       "--iters", str(args.iters), "--warmup", str(args.warmup), "--json"], "vidi bench")
        log(f"round {r + 1}: vidi {rv['median_ms']:.1f} ms; timing PyTorch eager")
        rt = time_torch(lambda t: model(pixel_values=t), x, args.iters, args.warmup)
        rnd = {"vidi": rv, "torch_eager": rt}
        if compiled is not None:
            rnd["torch_compile"] = time_torch(lambda t: compiled(pixel_values=t), x, args.iters, args.warmup)
        log(f"round {r + 1}: torch eager {rt['median_ms']:.1f} ms")
        rounds.append(rnd)
    summary["rounds_detail"] = rounds

    vidi_gflop = rounds[0]["vidi"]["gflop"]
    summary["vidi_gflop"] = vidi_gflop
    summary["gflop_agree"] = abs(vidi_gflop - analytic_gflop) / analytic_gflop < 0.01
    engines = ["vidi", "torch_eager"] + (["torch_compile"] if compiled is not None else [])
    for e in engines:
        ms = spread([rd[e]["median_ms"] for rd in rounds])
        summary[e] = {"median_ms": ms["median"], "rounds_min_ms": ms["min"], "rounds_max_ms": ms["max"],
                      "gflops": analytic_gflop / (ms["median"] / 1e3)}
    summary["speedup_vs_torch_eager"] = summary["torch_eager"]["median_ms"] / summary["vidi"]["median_ms"]
    summary["speedup_per_round"] = [rd["torch_eager"]["median_ms"] / rd["vidi"]["median_ms"] for rd in rounds]

    if not args.skip_sgemm:
        sg = run_json([sgemm, "--threads", str(args.threads), "--json"], "sgemm")
        summary["sgemm"] = sg
        square = [s["gflops"] for s in sg["results"] if s["shape"] == "square"]
        summary["sgemm_gflops"] = max(square)
        summary["vidi_over_sgemm"] = summary["vidi"]["gflops"] / summary["sgemm_gflops"]
        # the rate sgemm sustains over one encoder layer's four linears (each once)
        vit = [s for s in sg["results"] if s["shape"].startswith("vit-b")]
        if vit:
            fl = [2.0 * s["m"] * s["k"] * s["n"] for s in vit]
            summary["sgemm_vit_layer_gflops"] = sum(fl) / sum(f / s["gflops"] for f, s in zip(fl, vit))
    summary["torch_gemm"] = torch_gemm_rates()
    summary["goals"] = {
        "vidi_over_sgemm >= 0.85": summary.get("vidi_over_sgemm", 0) >= 0.85,
        "speedup_vs_torch_eager >= 2.5": summary["speedup_vs_torch_eager"] >= 2.5,
    }

    m = summary["machine"]
    print(f"ViT-B/16 224 batch 1, {args.threads} threads, {args.iters} iters ({args.warmup} warmup), "
          f"{args.rounds} round(s); {m.get('cpu', '?')}, nproc {m['nproc']}")
    print(f"{'engine':<16}{'median ms':>11}{'rounds min-max':>18}{'GFLOP/s':>10}")
    for e in engines:
        s = summary[e]
        print(f"{e:<16}{s['median_ms']:>11.1f}{s['rounds_min_ms']:>9.1f}-{s['rounds_max_ms']:<8.1f}"
              f"{s['gflops']:>10.1f}")
    if "sgemm" in summary:
        tg = {(r["m"], r["k"], r["n"]): r["gflops"] for r in summary["torch_gemm"]}
        for s in summary["sgemm"]["results"]:
            print(f"sgemm {s['shape']:<16} {s['m']:>5}x{s['k']:>5}x{s['n']:>5} {s['gflops']:>8.1f} GFLOP/s"
                  f"  (torch x@W^T {tg.get((s['m'], s['k'], s['n']), float('nan')):.1f})")
        print(f"vidi / sgemm (square, {summary['sgemm_gflops']:.1f})   {summary['vidi_over_sgemm']:.3f}"
              f"   goal >= 0.85: {'met' if summary['goals']['vidi_over_sgemm >= 0.85'] else 'NOT met'}")
    if "sgemm_vit_layer_gflops" in summary:
        print(f"  (sgemm over one layer's 4 ViT-shape linears: {summary['sgemm_vit_layer_gflops']:.1f} GFLOP/s;"
              f" vidi / that = {summary['vidi']['gflops'] / summary['sgemm_vit_layer_gflops']:.3f})")
    print(f"speedup vs PyTorch eager       {summary['speedup_vs_torch_eager']:.2f}x"
          f"  (per round {', '.join(f'{s:.2f}' for s in summary['speedup_per_round'])})"
          f"   goal >= 2.5: {'met' if summary['goals']['speedup_vs_torch_eager >= 2.5'] else 'NOT met'}")
    print(f"GFLOP per forward: vidi {vidi_gflop:.3f}, analytic {analytic_gflop:.3f}"
          f" ({'agree' if summary['gflop_agree'] else 'DISAGREE'})")
    if "parity" in summary:
        p = summary["parity"]
        print(f"parity (vidi classify vs PyTorch, same PNG): max |dlogit| {p['max_abs_diff']:.2e}, "
              f"relative to max |logit| {p['max_rel_diff']:.2e}, top-5 "
              f"{'same' if p['top5_vidi'] == p['top5_torch'] else 'DIFFERENT'}")
    tt = summary["torch_threads"]
    print(f"torch {torch.__version__} threads {tt['num_threads']} (interop {tt['num_interop_threads']}), "
          f"transformers {transformers.__version__}, vidi {summary['versions']['vidi_git']}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=2)
        log(f"wrote {args.json_out}")


if __name__ == "__main__":
    main()
