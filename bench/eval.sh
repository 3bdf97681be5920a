#!/usr/bin/env bash
# End-to-end `vidi eval` throughput vs the model alone, in one run.
#
#   bench/eval.sh [BUILD_DIR] [THREADS] [VIEWS]     (defaults: build 2 2x3)
#
# Model: a random-weight factorised-encoder ViViT (bench/eval_model.py:
# hidden 192, 4 spatial + 2 temporal layers, 16 frames, 112x112, 1.7 GFLOP
# per view), so the model and not decoding is the work. Data: a rendered
# Kinetics-layout synth set (h264, 160x120, 48 frames per clip).
#   model only   `vidi bench`: forward passes on a fixed clip, same threads
#   decode only  `vidi sample`: the same decoder + sampler and views, no model
#   end to end   `vidi eval`: decode-ahead queue + model + JSONL per video
# Prints clips/s of each and eval / model-only (the goal is >= 0.9 when
# decoding is faster than the model).
set -eu
build=${1:-build}
threads=${2:-2}
views=${3:-2x3}
vidi="$build/vidi"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$(dirname "$0")/eval_model.py" "$tmp/m.safetensors"
"$vidi" synth --out "$tmp/kin" --layout kinetics --clips 30 --size 160x120 --frames 48 --seed 11 >/dev/null 2>&1
cut -d, -f1 "$tmp/kin/train.csv" "$tmp/kin/val.csv" | grep -v '^label$' | sort -u >"$tmp/labels.txt"
vt=${views%x*}
vs=${views#*x}
n_videos=$(($(wc -l <"$tmp/kin/train.csv") - 1))
clips=$((n_videos * vt * vs))

# Decode + sample only: the same clips, written to a file nobody reads.
find "$tmp/kin/train" -name '*.mp4' | sort | sed 's/$/ 0/' >"$tmp/list.txt"
decode_s=$("$vidi" sample --list "$tmp/list.txt" --frames 16 --size 112 --views "$views" --json -o "$tmp/clips.safetensors" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')

# The machine may be shared: ROUNDS rounds of (model only, end to end), back
# to back so both see the same load; the ratio is taken per round and its
# median reported.
rounds=${ROUNDS:-5}
for round in $(seq 1 "$rounds"); do
  "$vidi" bench --model "$tmp/m.safetensors" -t "$threads" --iters 20 --warmup 3 --json >"$tmp/bench.$round.json"
  rm -rf "$tmp/out"
  "$vidi" eval --dataset kinetics --annotations "$tmp/kin/train.csv" --labels "$tmp/labels.txt" \
    --model "$tmp/m.safetensors" --views "$views" -t "$threads" -q -o "$tmp/out" >"$tmp/eval.$round.txt" || true
done
python3 - "$tmp" "$rounds" "$decode_s" "$clips" "$n_videos" "$threads" "$views" <<'PY'
import json, re, statistics, sys
tmp, rounds, decode_s, clips, videos, threads, views = sys.argv[1:]
clips, videos, rounds = int(clips), int(videos), int(rounds)
rows = []
for r in range(1, rounds + 1):
    ms = json.load(open("%s/bench.%d.json" % (tmp, r)))["median_ms"]
    text = open("%s/eval.%d.txt" % (tmp, r)).read()
    m = re.search(r"this run: (\d+) videos in ([\d.]+) s .*?; model ([\d.]+) s, waiting for decode ([\d.]+) s", text)
    if not m or int(m.group(1)) != videos:
        sys.exit("bench/eval.sh: no timing in vidi eval's output:\n" + text)
    secs, model_s, wait_s = float(m.group(2)), float(m.group(3)), float(m.group(4))
    rows.append((1000.0 / ms, clips / secs, model_s, wait_s, secs))
print("videos %d, views %s, clips %d, threads %s; decode only (vidi sample, same views): %.1f clips/s"
      % (videos, views, clips, threads, clips / float(decode_s)))
print("round  model-only clips/s  vidi eval clips/s  ratio  eval: in model / waiting for decode / total s")
for i, (mr, er, ms, ws, secs) in enumerate(rows, 1):
    print("%5d  %18.2f  %17.2f  %5.2f  %.2f / %.2f / %.2f" % (i, mr, er, er / mr, ms, ws, secs))
ratios = [er / mr for mr, er, _, _, _ in rows]
print("eval / model-only: median %.2f (min %.2f, max %.2f over %d rounds)"
      % (statistics.median(ratios), min(ratios), max(ratios), rounds))
PY
