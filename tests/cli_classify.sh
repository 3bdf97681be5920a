#!/usr/bin/env bash
# End-to-end CLI tests: the real binary, real images, real checkpoints.
# Usage: tests/cli_classify.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

model=samples/models/vit-shapes

# Help on every command.
expect 0 "vidi --help" -- "$vidi" --help; out_has "classify"; out_has "bench"
expect 0 "classify --help" -- "$vidi" classify --help; out_has "--top-k"; out_has "--json"
expect 0 "bench --help" -- "$vidi" bench --help; out_has "median_ms"
expect 2 "no command" -- "$vidi"
expect 2 "unknown command" -- "$vidi" frobnicate; err_has "unknown command 'frobnicate'"

# Usage errors: exit 2, one line naming the problem.
expect 2 "unknown option" -- "$vidi" classify --model "$model" --bogus x.png; err_has "unknown option '--bogus'"; err_one_line
VIDI_MODEL_DIR="$tmp" expect 1 "no default model" -- "$vidi" classify x.png; err_has "no default video model"; err_has "$tmp"; err_one_line
expect 2 "no inputs" -- "$vidi" classify --model "$model"; err_has "no inputs"
expect 2 "bad top-k" -- "$vidi" classify --model "$model" --top-k zero x.png; err_has "--top-k"
expect 2 "bad backend" -- "$vidi" classify --model "$model" --backend tpu x.png; err_has "tpu"
expect 2 "missing value" -- "$vidi" classify --model; err_has "needs a value"

# Model errors: exit 1, one line naming the file.
expect 1 "missing model path" -- "$vidi" classify --model /no/such/model x.png; err_has "/no/such/model"; err_one_line
printf 'not a safetensors file at all' >"$tmp/bad.safetensors"
expect 1 "garbage model" -- "$vidi" classify --model "$tmp/bad.safetensors" x.png; err_has "$tmp/bad.safetensors"; err_one_line

# Classification of the sample images: every prediction equals the label in
# the file name (the PyTorch model's predictions, samples/images/expected.json).
expect 0 "classify samples" -- "$vidi" classify --model "$model" --top-k 1 --json samples/images/*.png samples/images/*.jpg
python3 - "$tmp/out" samples/images/expected.json <<'PY' && ok || bad "predictions differ from expected.json"
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
expected = json.load(open(sys.argv[2]))
assert len(rows) == len(expected), (len(rows), len(expected))
for r in rows:
    want = expected[os.path.basename(r["input"])]
    top = r["top"][0]
    assert top["label"] == want["label"], (r["input"], top, want)
    assert abs(top["score"] - want["score"]) < 2e-3, (r["input"], top["score"], want["score"])
    assert len(r["logits"]) >= 6 and set(top) == {"index", "label", "score"}
PY

# Text output and top-k bounds.
img=$(ls samples/images/*.png | head -n1)
expect 0 "text output" -- "$vidi" classify --model "$model" --top-k 100 "$img"; out_has "$img"; out_has " 1\. "

# A corrupt image among good ones: reported, the others still classified, exit 1.
printf '\x89PNG\r\n\x1a\ngarbage' >"$tmp/corrupt.png"
expect 1 "corrupt image" -- "$vidi" classify --model "$model" --json "$img" "$tmp/corrupt.png" "$img"
err_has "$tmp/corrupt.png"; err_one_line
if [ "$(wc -l <"$tmp/out")" -eq 2 ]; then ok; else bad "expected 2 JSON lines for the 2 good images"; fi
expect 1 "missing image" -- "$vidi" classify --model "$model" /no/such.png; err_has "/no/such.png"

# bench --json has the documented fields.
expect 0 "bench json" -- "$vidi" bench --model "$model" --iters 3 --warmup 1 --threads 1 --json
python3 -c "
import json,sys; o=json.load(open('$tmp/out'))
for k in ('median_ms','min_ms','max_ms','gflops','gflop','threads','iters'): assert k in o, k
assert o['min_ms'] <= o['median_ms'] <= o['max_ms'] and o['gflops'] > 0 and o['iters'] == 3
" && ok || bad "bench JSON fields"
expect 2 "bench bad iters" -- "$vidi" bench --model "$model" --iters -1; err_has "--iters"

summary cli_classify
