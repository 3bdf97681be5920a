#!/usr/bin/env python3
"""Held-out accuracy of a video model as vidi itself computes it.

    python3 tools/eval_vivit.py --model samples/models/vivit-synth.safetensors \
        --dataset /tmp/vivit-train/heldout [--split all|train|validation] [--views 1x1]

Runs `vidi classify --model M --json --top-k 1` over every clip of an SSv2-layout
dataset (labels.json + train.json / validation.json, as `vidi synth` writes it) and
compares vidi's top-1 with the true class: overall top-1, per-class accuracy and the
confusions. No PyTorch involved: this is the number users get.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clips(dataset, split):
    with open(os.path.join(dataset, "labels.json")) as f:
        labels = json.load(f)
    names = [None] * len(labels)
    for k, v in labels.items():
        names[int(v)] = k
    out = []
    for sp in (["train", "validation"] if split == "all" else [split]):
        with open(os.path.join(dataset, sp + ".json")) as f:
            for e in json.load(f):
                path = next(p for p in (os.path.join(dataset, f"{e['id']}.{x}") for x in ("webm", "mp4", "avi", "mkv"))
                            if os.path.exists(p))
                out.append((path, int(labels[e["template"].replace("[", "").replace("]", "")])))
    return out, names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vidi", default=os.path.join(ROOT, "build/vidi"))
    ap.add_argument("--model", default=os.path.join(ROOT, "samples/models/vivit-synth.safetensors"))
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--split", default="all", choices=["all", "train", "validation"])
    ap.add_argument("--views", default="1x1")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=200, help="clips per vidi invocation")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = ap.parse_args()

    items, names = clips(args.dataset, args.split)
    truth = {p: y for p, y in items}
    cmd = [args.vidi, "classify", "--model", args.model, "--json", "--top-k", "1", "--views", args.views,
           "--threads", str(args.threads)]
    t0 = time.time()
    pred = {}
    for i in range(0, len(items), args.chunk):
        r = subprocess.run(cmd + [p for p, _ in items[i:i + args.chunk]], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"eval_vivit: vidi classify failed (exit {r.returncode}): {r.stderr.strip()}")
        for line in r.stdout.splitlines():
            o = json.loads(line)
            pred[o["input"]] = o["top"][0]["index"]
    secs = time.time() - t0
    n_cls = len(names)
    correct = [0] * n_cls
    count = [0] * n_cls
    confusions = {}
    for p, y in items:
        count[y] += 1
        if pred[p] == y:
            correct[y] += 1
        else:
            key = f"{names[y]} -> {names[pred[p]]}"
            confusions[key] = confusions.get(key, 0) + 1
    top1 = sum(correct) / len(items)
    summary = {"model": args.model, "dataset": args.dataset, "split": args.split, "views": args.views,
               "clips": len(items), "correct": sum(correct), "top1": top1,
               "per_class": {names[c]: correct[c] / count[c] if count[c] else None for c in range(n_cls)},
               "per_class_n": {names[c]: count[c] for c in range(n_cls)},
               "confusions": dict(sorted(confusions.items(), key=lambda kv: -kv[1])), "seconds": secs}
    if args.json:
        print(json.dumps(summary))
        return
    print(f"{args.model} on {args.dataset} ({args.split}, views {args.views}): "
          f"top-1 {top1:.4f} ({sum(correct)}/{len(items)}) in {secs:.1f} s")
    for c in range(n_cls):
        print(f"  {names[c]:40s} {correct[c]:4d}/{count[c]:<4d} {correct[c] / max(1, count[c]):.3f}")
    for k, v in summary["confusions"].items():
        print(f"  confused: {k} x{v}")


if __name__ == "__main__":
    main()
