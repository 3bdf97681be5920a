#!/usr/bin/env python3
"""Independent reference for `vidi eval` (python3 standard library only).

  eval_reference.py check OUT_DIR --dataset kinetics|ssv2|list --annotations F [--labels F]
      Re-reads the annotations and OUT_DIR/results.jsonl and recomputes what
      vidi wrote to OUT_DIR/summary.json: each video's class index, top-5
      from its logits, top-1 / top-5 / mean class accuracy and the confusion
      matrix. Exits 1 on any difference.

  eval_reference.py make-model SRC DST N
      A tiny test checkpoint: the vidi single-file ViViT SRC with its head
      resized to N classes (seeded random rows), so the synthetic 12-class
      datasets can be evaluated without a trained model.
"""
import csv
import json
import os
import random
import struct
import sys


def fail(msg):
    print("eval_reference: " + msg, file=sys.stderr)
    sys.exit(1)


def load_classes(dataset, annotations, labels, rows):
    if labels:
        if labels.endswith(".json"):
            obj = json.load(open(labels))
            if isinstance(obj, dict) and "id2label" in obj:
                return [obj["id2label"][str(i)] for i in range(len(obj["id2label"]))]
            if isinstance(obj, dict):
                names = [None] * len(obj)
                for name, idx in obj.items():
                    names[int(idx)] = name
                return names
            return list(obj)
        return [l.rstrip("\r\n").rstrip() for l in open(labels) if l.strip()]
    if dataset == "kinetics":
        return sorted({r["label"] for r in rows})
    if dataset == "ssv2":
        return load_classes(dataset, None, os.path.join(os.path.dirname(annotations) or ".", "labels.json"), rows)
    fail("list needs --labels here")


def read_rows(dataset, annotations):
    """(id, label name or index) per usable row, in file order."""
    out = []
    if dataset == "kinetics":
        for r in csv.DictReader(open(annotations, newline="")):
            out.append(dict(id="%s_%06d_%06d" % (r["youtube_id"], int(float(r["time_start"])),
                                                 int(float(r["time_end"]))), label=r["label"]))
    elif dataset == "ssv2":
        for e in json.load(open(annotations)):
            out.append(dict(id=str(e["id"]), label=e["template"].replace("[", "").replace("]", "")))
    else:
        for line in open(annotations):
            line = line.rstrip()
            if not line or line.startswith("#"):
                continue
            path, label = line.rsplit(None, 1)
            out.append(dict(id=path, label=label))
    return out


def topk(logits, k):
    return sorted(range(len(logits)), key=lambda i: (-logits[i], i))[:k]


def check(out_dir, dataset, annotations, labels):
    rows = read_rows(dataset, annotations)
    classes = load_classes(dataset, annotations, labels, rows)
    index = {n: i for i, n in enumerate(classes)}
    summary = json.load(open(os.path.join(out_dir, "summary.json")))
    records = {}
    for n, line in enumerate(open(os.path.join(out_dir, "results.jsonl")), 1):
        r = json.loads(line)
        if r["index"] in records:
            fail("results.jsonl:%d: second record for item %d" % (n, r["index"]))
        records[r["index"]] = r
    if len(rows) != summary["videos"] or len(records) != len(rows):
        fail("rows %d, summary videos %d, records %d" % (len(rows), summary["videos"], len(records)))
    nc = len(classes)
    conf = [[0] * nc for _ in range(nc)]
    hits1 = hits5 = evaluated = failed = 0
    for i, row in enumerate(rows):
        r = records[i]
        lab = int(row["label"]) if dataset == "list" and row["label"].isdigit() else index[row["label"]]
        if r["id"] != row["id"] or r["label"] != lab:
            fail("item %d: record (%s, %d) but annotations say (%s, %d)" % (i, r["id"], r["label"], row["id"], lab))
        if r["status"] != "ok":
            failed += 1
            continue
        if len(r["logits"]) != nc:
            fail("item %d: %d logits for %d classes" % (i, len(r["logits"]), nc))
        top = topk(r["logits"], 5)
        if top != r["top5"]:
            fail("item %d: top5 %s but the logits rank %s" % (i, r["top5"], top))
        evaluated += 1
        conf[lab][top[0]] += 1
        hits1 += top[0] == lab
        hits5 += lab in top
    per_class = [(conf[c][c], sum(conf[c])) for c in range(nc)]
    present = [c / n for c, n in per_class if n]
    want = dict(evaluated=evaluated, failed=failed, top1=hits1 / evaluated if evaluated else 0,
                top5=hits5 / evaluated if evaluated else 0,
                mean_class_accuracy=sum(present) / len(present) if present else 0, confusion=conf)
    for key, value in want.items():
        got = summary[key]
        same = abs(got - value) < 1e-12 if isinstance(value, float) else got == value
        if not same:
            fail("summary %s = %s, reference %s" % (key, got, value))
    for c, cls in enumerate(summary["classes"]):
        if cls["name"] != classes[c] or cls["videos"] != per_class[c][1] or cls["correct"] != per_class[c][0]:
            fail("summary class %d = %s, reference %s %s" % (c, cls, classes[c], per_class[c]))
    print("reference: %d evaluated, top-1 %.4f, top-5 %.4f, mean class %.4f: summary agrees"
          % (evaluated, want["top1"], want["top5"], want["mean_class_accuracy"]))


def make_model(src, dst, n):
    raw = open(src, "rb").read()
    hlen = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__")
    config = json.loads(meta["config"])
    hidden = config["hidden_size"]
    config["id2label"] = {str(i): "class_%d" % i for i in range(n)}
    meta["config"] = json.dumps(config, sort_keys=True)
    rng = random.Random(1234)
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        tensors[name] = (t["dtype"], t["shape"], raw[8 + hlen + a:8 + hlen + b])
    tensors["head.weight"] = ("F32", [n, hidden], struct.pack("<%df" % (n * hidden),
                                                              *[rng.gauss(0, 0.5) for _ in range(n * hidden)]))
    tensors["head.bias"] = ("F32", [n], struct.pack("<%df" % n, *[rng.gauss(0, 0.1) for _ in range(n)]))
    out, data, at = {"__metadata__": meta}, b"", 0
    for name in sorted(tensors):
        dtype, shape, blob = tensors[name]
        out[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(blob)]}
        data += blob
        at += len(blob)
    head = json.dumps(out, sort_keys=True).encode()
    head += b" " * (-len(head) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(head)) + head + data)


def main(argv):
    if len(argv) >= 1 and argv[0] == "make-model" and len(argv) == 4:
        return make_model(argv[1], argv[2], int(argv[3]))
    if len(argv) >= 1 and argv[0] == "check":
        opts = dict(zip(argv[2::2], argv[3::2]))
        return check(argv[1], opts["--dataset"], opts["--annotations"], opts.get("--labels"))
    fail(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
