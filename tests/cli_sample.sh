#!/usr/bin/env bash
# vidi sample: decoder + sampler -> safetensors clips, the training-data path.
# Usage: tests/cli_sample.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

ds=samples/clips/ssv2-vp9
expect 0 "sample --help" -- "$vidi" sample --help; out_has "--views"; out_has "clip.<n>.<v>"
expect 0 "vidi --help lists sample" -- "$vidi" --help; out_has "sample"

# SSv2 layout, train split, 2x3 views: tensors, shapes, labels and class names.
expect 0 "ssv2 train" -- "$vidi" sample --ssv2 "$ds" --split train --frames 8 --size 32 \
  --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5 --views 2x3 --json -o "$tmp/train.safetensors"
python3 - "$tmp/train.safetensors" "$tmp/out" "$ds" <<'PY' && ok || bad "ssv2 train output"
import json, struct, sys
path, summary, ds = sys.argv[1:]
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__")
assert meta["format"] == "vidi-clips"
inputs, labels, classes = json.loads(meta["inputs"]), json.loads(meta["labels"]), json.loads(meta["classes"])
train = json.load(open(ds + "/train.json"))
lab = json.load(open(ds + "/labels.json"))
assert len(inputs) == len(train) == len(labels) == 10, (len(inputs), len(labels))
for e, p, y in zip(train, inputs, labels):
    assert p.endswith("/" + e["id"] + ".webm"), (p, e)
    assert y == int(lab[e["template"].replace("[", "").replace("]", "")]), (e, y)
    assert classes[y] == e["template"].replace("[", "").replace("]", "")
assert len(header) == 10 * 6, len(header)
for i in range(10):
    for v in range(6):
        t = header[f"clip.{i}.{v}"]
        assert t["dtype"] == "F32" and t["shape"] == [8, 3, 32, 32], t
s = json.load(open(summary))
assert s["videos"] == 10 and s["views"] == 6 and s["tensors"] == 60 and s["frames"] == 8, s
# Values are normalised to [-1, 1] by mean = std = 0.5.
import array
first = header["clip.0.0"]["data_offsets"]
vals = array.array("f", raw[8 + n + first[0]:8 + n + first[1]])
assert -1.0001 <= min(vals) and max(vals) <= 1.0001 and max(vals) - min(vals) > 0.5
PY

# The same clips as vidi's sampler gives twice: byte-identical output.
expect 0 "rerun" -- "$vidi" sample --ssv2 "$ds" --split validation --frames 8 --size 32 -o "$tmp/a.safetensors"
out_has "2 videos x 1 views"
expect 0 "rerun 2" -- "$vidi" sample --ssv2 "$ds" --split validation --frames 8 --size 32 -o "$tmp/b.safetensors"
if cmp -s "$tmp/a.safetensors" "$tmp/b.safetensors"; then ok; else bad "two runs differ"; fi

# --list (PATH LABEL, paths with spaces allowed) and --preprocessor.
mkdir -p "$tmp/with space"
cp "$ds/1.webm" "$tmp/with space/a clip.webm"
printf '# comment\n%s 6\n\n%s 7\n' "$tmp/with space/a clip.webm" "$ds/2.webm" >"$tmp/list.txt"
printf '{"do_resize": true, "size": {"shortest_edge": 40}, "do_center_crop": true, "crop_size": {"height": 40, "width": 40}, "image_mean": [0.5,0.5,0.5], "image_std": [0.5,0.5,0.5]}' >"$tmp/pre.json"
expect 0 "list + preprocessor" -- "$vidi" sample --list "$tmp/list.txt" --preprocessor "$tmp/pre.json" --frames 4 -o "$tmp/l.safetensors"
out_has "2 videos x 1 views, clips \[4, 3, 40, 40\]"
# Plain video arguments (label -1).
expect 0 "video args" -- "$vidi" sample "$ds/1.webm" --frames 4 --size 16 -o "$tmp/v.safetensors"

# Usage errors: exit 2, one line.
expect 2 "no inputs" -- "$vidi" sample -o "$tmp/x.safetensors"; err_has "no input videos"; err_one_line
expect 2 "two sources" -- "$vidi" sample --ssv2 "$ds" --list "$tmp/list.txt" -o "$tmp/x.safetensors"; err_one_line
expect 2 "no output" -- "$vidi" sample --ssv2 "$ds"; err_has "-o OUT is required"
expect 2 "bad views" -- "$vidi" sample --ssv2 "$ds" --views 2x2 -o "$tmp/x.safetensors"; err_has "--views"; err_one_line
expect 2 "bad split" -- "$vidi" sample --ssv2 "$ds" --split test -o "$tmp/x.safetensors"; err_has "--split"
expect 2 "bad mean" -- "$vidi" sample --ssv2 "$ds" --mean 1,2 -o "$tmp/x.safetensors"; err_has "--mean"
expect 2 "zero std" -- "$vidi" sample --ssv2 "$ds" --std 1,0,1 -o "$tmp/x.safetensors"; err_has "--std"
expect 2 "unknown option" -- "$vidi" sample --bogus; err_has "unknown option '--bogus'"

# Runtime errors: exit 1, one line per bad input naming it, nothing written.
expect 1 "missing dataset" -- "$vidi" sample --ssv2 "$tmp/nope" -o "$tmp/x.safetensors"; err_has "$tmp/nope/labels.json"; err_one_line
printf '%s\n' "$ds/1.webm" >"$tmp/nolabel.txt"
expect 1 "list without label" -- "$vidi" sample --list "$tmp/nolabel.txt" -o "$tmp/x.safetensors"; err_has "nolabel.txt:1"
printf '%s 1\n%s 2\n' "$ds/1.webm" "$tmp/missing.webm" >"$tmp/missing.txt"
expect 1 "missing video" -- "$vidi" sample --list "$tmp/missing.txt" -o "$tmp/x.safetensors"
err_has "$tmp/missing.webm"; err_has "1 of 2 videos failed"
if [ ! -e "$tmp/x.safetensors" ]; then ok; else bad "output written despite failures"; fi

echo "cli_sample: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
