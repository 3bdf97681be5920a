#!/usr/bin/env bash
# vidi eval on rendered synthetic datasets (Kinetics and SSv2 layouts, a
# list): metrics equal tests/eval_reference.py's recomputation from the
# per-video JSONL; a killed run resumes to the same summary; bad rows and
# videos are reported with file and line and set the exit status.
# Usage: tests/cli_eval.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
reference() { # OUT_DIR ARGS...: the independent recomputation agrees with summary.json
  if python3 tests/eval_reference.py check "$@" >"$tmp/ref" 2>&1; then ok; else bad "reference ($1): $(cat "$tmp/ref")"; fi
}
same_summary() {
  if cmp -s "$1/summary.json" "$2/summary.json"; then ok; else bad "summaries differ: $1 vs $2: $(diff "$1/summary.json" "$2/summary.json" | head -5)"; fi
}

expect 0 "eval --help" -- "$vidi" eval --help; out_has "--annotations"; out_has "--resume"; out_has "This build:"
expect 0 "vidi --help lists eval" -- "$vidi" --help; out_has "eval"

# Datasets: both synth layouts, small clips. The model: a tiny random ViViT
# (factorised encoder, 8 frames, 32x32) with a 12-class head; the metrics
# test needs a correct computation, not a good model.
"$vidi" synth --out "$tmp/kin" --layout kinetics --clips 24 --size 64x48 --frames 12 --seed 3 >/dev/null 2>&1 || bad "synth kinetics"
"$vidi" synth --out "$tmp/ssv2" --clips 24 --size 64x48 --frames 12 --seed 4 >/dev/null 2>&1 || bad "synth ssv2"
python3 tests/eval_reference.py make-model tests/golden/vivit_fe/model.safetensors "$tmp/m12.safetensors" 12 || bad "make-model"
m="$tmp/m12.safetensors"
cat "$tmp/kin/train.csv" "$tmp/kin/val.csv" | grep -v youtube_id | cut -d, -f1 | sort -u >"$tmp/kin/labels.txt"
[ "$(wc -l <"$tmp/kin/labels.txt")" -eq 12 ] && ok || bad "kinetics synth does not have 12 classes"

# Kinetics layout (videos under <split>/<label>/), 2x3 views, explicit labels.
k=(--dataset kinetics --annotations "$tmp/kin/train.csv" --labels "$tmp/kin/labels.txt")
expect 0 "kinetics 2x3" -- "$vidi" eval "${k[@]}" --model "$m" --views 2x3 -t 1 -o "$tmp/k1"
out_has "top-1"; out_has "19 videos: 19 evaluated, 0 failed"
reference "$tmp/k1" "${k[@]}"
grep -q '"views":6' "$tmp/k1/results.jsonl" && ok || bad "kinetics records do not say 6 views"
python3 - "$tmp/k1/report.html" <<'PY' && ok || bad "report.html"
import sys, re
html = open(sys.argv[1]).read()
assert "<svg" in html and "Per-class accuracy" in html and "top-1" in html
cells = re.findall(r'<rect x="\d+" y="\d+" width="24"', html)
assert len(cells) == 144, len(cells)
PY
# Strided clips (mmaction2 SampleFrames) instead of uniform sampling.
expect 0 "kinetics --stride" -- "$vidi" eval "${k[@]}" --model "$m" --views 2x1 --frames 8 --stride 1 -t 1 -o "$tmp/k2"
reference "$tmp/k2" "${k[@]}"
expect 1 "kinetics --frames not the model's" -- "$vidi" eval "${k[@]}" --model "$m" --frames 16 -o "$tmp/k3"
err_has "takes exactly 8 frames"; err_one_line

# SSv2 layout, default labels.json beside the annotations, 2 decode threads.
s=(--dataset ssv2 --annotations "$tmp/ssv2/train.json")
expect 0 "ssv2 2x1" -- "$vidi" eval "${s[@]}" --model "$m" --views 2x1 --decode-threads 2 --queue 1 -t 1 -o "$tmp/s1"
out_has "18 videos: 18 evaluated"
reference "$tmp/s1" "${s[@]}"
# Same videos, one decode thread: identical summary (completion order does not matter).
expect 0 "ssv2 1 decode thread" -- "$vidi" eval "${s[@]}" --model "$m" --views 2x1 -t 1 -q -o "$tmp/s2"
same_summary "$tmp/s1" "$tmp/s2"

# The default video model (no --model), once samples/models has it.
if [ -f samples/models/vivit-synth.safetensors ]; then
  expect 0 "ssv2, default model" -- env -u VIDI_MODEL_DIR "$vidi" eval "${s[@]}" --views 1x1 -q -o "$tmp/d1"
  reference "$tmp/d1" "${s[@]}"
else
  bad "samples/models/vivit-synth.safetensors (the shipped default model) is missing"
fi

# List format: class names and indices, relative paths under --videos.
python3 - "$tmp/ssv2" >"$tmp/list.txt" <<'PY'
import json, sys
d = sys.argv[1]
lab = json.load(open(d + "/labels.json"))
for e in json.load(open(d + "/train.json")):
    print("%s.webm %s" % (e["id"], lab[e["template"].replace("[", "").replace("]", "")]))
PY
expect 0 "list" -- "$vidi" eval --dataset list --annotations "$tmp/list.txt" --videos "$tmp/ssv2" --labels "$tmp/ssv2/labels.json" --model "$m" --views 2x1 -t 1 -q -o "$tmp/l1"
reference "$tmp/l1" --dataset list --annotations "$tmp/list.txt" --labels "$tmp/ssv2/labels.json"
# The list holds the same videos and labels as ssv2 train: same metrics.
python3 - "$tmp/l1/summary.json" "$tmp/s1/summary.json" <<'PY' && ok || bad "list and ssv2 metrics differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for key in ("top1", "top5", "mean_class_accuracy", "confusion", "evaluated"):
    assert a[key] == b[key], key
PY

# Resume: (1) a run cut after 5 records with half a sixth line (a kill while
# writing) continues to the uninterrupted run's summary; (2) a real kill -9.
mkdir -p "$tmp/r1"
cp "$tmp/k1/run.json" "$tmp/r1/"
{ head -n 5 "$tmp/k1/results.jsonl"; sed -n 6p "$tmp/k1/results.jsonl" | head -c 40; } >"$tmp/r1/results.jsonl"
expect 0 "resume after a torn line" -- "$vidi" eval "${k[@]}" --model "$m" --views 2x3 -t 1 -o "$tmp/r1" --resume
err_has "5 with results already, 14 to do"; err_has "incomplete last line"
same_summary "$tmp/k1" "$tmp/r1"
reference "$tmp/r1" "${k[@]}"
[ "$(wc -l <"$tmp/r1/results.jsonl")" -eq 19 ] && ok || bad "resumed results.jsonl does not have 19 lines"
# The reference backend is slow enough to be killed part-way.
"$vidi" eval "${k[@]}" --model "$m" --views 2x3 -t 1 --backend ref -q -o "$tmp/r2" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  [ -f "$tmp/r2/results.jsonl" ] && [ "$(wc -l <"$tmp/r2/results.jsonl")" -ge 3 ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
lines=$(wc -l <"$tmp/r2/results.jsonl")
[ "$lines" -lt 19 ] || echo "note: the run finished before the kill ($lines lines)"
expect 1 "killed run without --resume" -- "$vidi" eval "${k[@]}" --model "$m" --views 2x3 -o "$tmp/r2"
err_has "holds an earlier evaluation"; err_one_line
expect 1 "resume with other views" -- "$vidi" eval "${k[@]}" --model "$m" --views 1x1 -o "$tmp/r2" --resume
err_has "different settings"
expect 0 "resume after kill -9" -- "$vidi" eval "${k[@]}" --model "$m" --views 2x3 -t 1 -o "$tmp/r2" --resume
same_summary "$tmp/k1" "$tmp/r2"
# Shard files of a killed 2-rank MPI run (one torn), resumed by one process:
# their records count, they are merged into results.jsonl and removed.
mkdir -p "$tmp/r4"
cp "$tmp/k1/run.json" "$tmp/r4/"
python3 - "$tmp/k1/results.jsonl" "$tmp/r4" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for rank in (0, 1):
    mine = [l for l in lines if json.loads(l)["index"] % 2 == rank][:4]
    with open("%s/results.rank-%d-of-2.jsonl" % (sys.argv[2], rank), "w") as f:
        f.write("\n".join(mine[:3]) + "\n" + mine[3][:30])
PY
expect 0 "resume 2-rank shards in one process" -- "$vidi" eval "${k[@]}" --model "$m" --views 2x3 -t 1 -o "$tmp/r4" --resume
err_has "6 with results already, 13 to do"
same_summary "$tmp/k1" "$tmp/r4"
ls "$tmp/r4" | grep -q "results.rank-" && bad "shard files left: $(ls "$tmp/r4")" || ok
python3 -c "import json,sys; i=[json.loads(l)['index'] for l in open(sys.argv[1])]; sys.exit(i != list(range(19)))" "$tmp/r4/results.jsonl" && ok || bad "merged results.jsonl not sorted"
# --overwrite starts over in a used directory; with --resume it is a usage error.
expect 0 "overwrite" -- "$vidi" eval "${k[@]}" --model "$m" --views 1x1 -t 1 -q --overwrite -o "$tmp/r2"
grep -q '"views":"1x1"' "$tmp/r2/run.json" && [ "$(wc -l <"$tmp/r2/results.jsonl")" -eq 19 ] && ok || bad "--overwrite did not start over"
expect 2 "resume + overwrite" -- "$vidi" eval "${k[@]}" --model "$m" --resume --overwrite -o "$tmp/r2"; err_one_line
# --limit then --resume: the same summary again.
expect 1 "limit (not every video: exit 1)" -- "$vidi" eval "${k[@]}" --model "$m" --views 2x3 -t 1 --limit 4 -q -o "$tmp/r3"
python3 -c "import json,sys; s=json.load(open('$tmp/r3/summary.json')); sys.exit(not (s['evaluated']==4 and s['not_run']==15 and not s['complete']))" && ok || bad "--limit summary"
expect 0 "resume after limit" -- "$vidi" eval "${k[@]}" --model "$m" --views 2x3 -t 1 -q -o "$tmp/r3" --resume
same_summary "$tmp/k1" "$tmp/r3"

# Bad Kinetics rows: each reported with file:line and skipped; a missing and
# a corrupt video are counted as failed; the exit status is 1.
cp "$tmp/kin/train.csv" "$tmp/bad.csv"
first=$(sed -n 2p "$tmp/kin/train.csv")
{
  echo "$first"                                           # line 21: duplicate id
  echo "moving something up,onlythree,12"                 # 22: too few fields
  echo "not a class,abcdefghijk,1,2,train"                # 23: label not in labels.txt
  echo "moving something up,abcdefghijk,x,2,train"        # 24: bad time
  echo "moving something up,MISSINGvid00,5,7,train"       # 25: no such video
  echo "\"moving something up\",CORRUPTvid00,1,2,train"   # 26: quoted label; corrupt file
} >>"$tmp/bad.csv"
mkdir -p "$tmp/kin/train/extra"
head -c 3000 /dev/urandom >"$tmp/kin/train/extra/CORRUPTvid00_000001_000002.mp4"
expect 1 "bad kinetics rows" -- "$vidi" eval --dataset kinetics --annotations "$tmp/bad.csv" --labels "$tmp/kin/labels.txt" --videos "$tmp/kin" --model "$m" -t 1 -q -o "$tmp/b1"
err_has "bad.csv:21: duplicate id"; err_has "first on line 2"
err_has "bad.csv:22: expected 5 comma-separated fields, found 3"
err_has "bad.csv:23: label 'not a class' is not in the labels file"
err_has "bad.csv:24: time_start/time_end"
err_has "bad.csv:25: no video for 'MISSINGvid00_000005_000007'"
err_has "CORRUPTvid00_000001_000002.mp4"
out_has "21 videos: 19 evaluated, 2 failed, 0 not run, 4 rows skipped"
python3 - "$tmp/b1/summary.json" <<'PY' && ok || bad "bad-row summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["complete"] is False and s["failed"] == 2 and s["skipped_rows"] == 4, s
assert [f["id"] for f in s["failures"]] == ["MISSINGvid00_000005_000007", "CORRUPTvid00_000001_000002"], s["failures"]
assert len(s["row_errors"]) == 4 and s["row_errors"][0].endswith("row skipped")
PY

# Bad SSv2 entries: line numbers of the entries in validation.json.
cat >"$tmp/ssv2/bad.json" <<EOF
[
    {"id": "1", "template": "Moving [something] up"},
    {"id": "2", "template": "Juggling [something]"},
    {"id": 3, "tmpl": "x"},
    {"id": "1", "template": "Moving [something] up"},
    {"id": "4" "template": "broken"},
    {"id": "999", "template": "Moving [something] down"}
]
EOF
expect 1 "bad ssv2 entries" -- "$vidi" eval --dataset ssv2 --annotations "$tmp/ssv2/bad.json" --model "$m" -t 1 -q -o "$tmp/b2"
err_has "bad.json:3: template 'Juggling something' is not in the labels file"
err_has "bad.json:4: entry '3' has no string 'template'"
err_has "bad.json:5: duplicate id '1' (first on line 2)"
err_has "bad.json:6: entry is not valid JSON"
err_has "bad.json:7: no video for '999'"
out_has "2 videos: 1 evaluated, 1 failed, 0 not run, 4 rows skipped"
printf '[\n  {"id": "1", "template": "Moving [something] up"},\n' >"$tmp/ssv2/open.json"
expect 1 "unterminated ssv2 array" -- "$vidi" eval --dataset ssv2 --annotations "$tmp/ssv2/open.json" --model "$m" -q -o "$tmp/b3"
err_has "open.json:3: unterminated"; err_one_line

# Bad list rows.
printf '1.webm 3\n2.webm 12\n3.webm\n' >"$tmp/badlist.txt"
expect 1 "bad list rows" -- "$vidi" eval --dataset list --annotations "$tmp/badlist.txt" --videos "$tmp/ssv2" --model "$m" -t 1 -q -o "$tmp/b4"
err_has "badlist.txt:2: label 12 is not a class index in \[0, 12)"
err_has "badlist.txt:3: expected 'PATH LABEL'"

# Whole-run errors: one line, nothing evaluated.
expect 1 "missing annotations" -- "$vidi" eval --dataset kinetics --annotations "$tmp/nope.csv" --model "$m" -o "$tmp/x1"
err_has "nope.csv: cannot open"; err_one_line
expect 1 "classes vs model outputs" -- "$vidi" eval "${s[@]}" --model tests/golden/vivit_fe/model.safetensors -o "$tmp/x2"
err_has "names 12 classes but tests/golden/vivit_fe/model.safetensors has 5 outputs"; err_one_line
expect 2 "bad dataset" -- "$vidi" eval --dataset imagenet --annotations "$tmp/list.txt"; err_has "not kinetics, ssv2 or list"; err_one_line
expect 2 "no annotations" -- "$vidi" eval --dataset ssv2; err_has "required"; err_one_line
expect 2 "bad views" -- "$vidi" eval "${s[@]}" --views 2x2; err_has "--views"; err_one_line
expect 2 "unknown option" -- "$vidi" eval --bogus; err_has "unknown option '--bogus'"
expect 1 "no default model" -- env VIDI_MODEL_DIR="$tmp/none" "$vidi" eval "${s[@]}" -o "$tmp/x3"
err_has "no default video model"; err_one_line
if ! "$vidi" eval --help | grep -q "MPI scale-out enabled"; then
  expect 1 "mpirun without MPI support" -- env OMPI_COMM_WORLD_SIZE=2 "$vidi" eval "${s[@]}" --model "$m" -o "$tmp/x4"
  err_has "built without MPI"; err_one_line
fi

echo "cli_eval: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
