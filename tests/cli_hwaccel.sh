#!/usr/bin/env bash
# --hwaccel none|cuda on the commands that decode video for a model: classify,
# sample and eval (probe and frames: cli_cuda_backend.sh). Without a GPU (this
# machine, CI) NVDEC cannot open: each command says so once, on one line, and
# decodes in software, so its output is the same bytes as without the option.
# A bad value is a one-line usage error (exit 2).
# Usage: tests/cli_hwaccel.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

vivit=tests/golden/vivit_fe/model.safetensors    # tiny: classify
synth=samples/models/vivit-synth.safetensors      # the default model, 12 classes: eval on the SSv2 samples
# A VP9 and an H.264 clip (the Kinetics layout has spaces in its paths).
clips=(samples/clips/ssv2-vp9/1.webm "$(find samples/clips/kinetics-h264 -name '*.mp4' | sort | head -n 1)")
ssv2=(--dataset ssv2 --annotations samples/clips/ssv2-vp9/train.json)

# NVDEC really decodes only with a GPU; then only the equal-output checks run
# (the fallback note is not printed) and the pictures may differ slightly.
if "$vidi" probe --hwaccel cuda --json samples/clips/ssv2-vp9/1.webm 2>/dev/null | grep -q '"hwaccel":"cuda"'; then
  echo "note: NVDEC is available; the software-fallback checks are skipped"
  echo "cli_hwaccel: skipped"
  exit 0
fi

# stderr is exactly the fallback note of CMD, once.
fallback_note() {
  err_has "^vidi $1: --hwaccel cuda: .*; decoding in software$"; err_one_line
}
same_out() { # FILE_A FILE_B WHAT
  if [ -s "$1" ] && cmp -s "$1" "$2"; then ok; else bad "$3: output with --hwaccel cuda differs from software decode"; fi
}

# classify: views (sparse parallel reads) and a stream (sequential decode).
expect 0 "classify" -- "$vidi" classify --model "$vivit" --views 2x3 --json -t 1 "${clips[@]}"
cp "$tmp/out" "$tmp/classify-sw"
expect 0 "classify --hwaccel cuda" -- "$vidi" classify --hwaccel cuda --model "$vivit" --views 2x3 --json -t 1 "${clips[@]}"
fallback_note classify
same_out "$tmp/classify-sw" "$tmp/out" "classify --views 2x3"
expect 0 "classify --hwaccel none" -- "$vidi" classify --hwaccel none --model "$vivit" --views 2x3 --json -t 1 "${clips[@]}"
same_out "$tmp/classify-sw" "$tmp/out" "classify --hwaccel none"
if [ -s "$tmp/err" ]; then bad "classify --hwaccel none wrote to stderr: $(cat "$tmp/err")"; else ok; fi
expect 0 "classify --stream" -- "$vidi" classify --model "$vivit" --stream --json -t 1 samples/clips/ssv2-vp9/1.webm
cp "$tmp/out" "$tmp/stream-sw"
expect 0 "classify --stream --hwaccel cuda" -- "$vidi" classify --stream --hwaccel cuda --model "$vivit" --json -t 1 samples/clips/ssv2-vp9/1.webm
fallback_note classify
same_out "$tmp/stream-sw" "$tmp/out" "classify --stream"

# sample: the clip tensors file is the same bytes.
expect 0 "sample" -- "$vidi" sample -f 4 -s 32 --views 2x1 -o "$tmp/sw.safetensors" "${clips[@]}"
expect 0 "sample --hwaccel cuda" -- "$vidi" sample --hwaccel cuda -f 4 -s 32 --views 2x1 -o "$tmp/hw.safetensors" "${clips[@]}"
fallback_note sample
same_out "$tmp/sw.safetensors" "$tmp/hw.safetensors" "sample"

# eval: two decode threads, one note; same per-video records and summary.
expect 0 "eval" -- "$vidi" eval "${ssv2[@]}" --model "$synth" --views 1x3 --decode-threads 2 -t 1 -q -o "$tmp/ev-sw"
expect 0 "eval --hwaccel cuda" -- "$vidi" eval "${ssv2[@]}" --model "$synth" --views 1x3 --decode-threads 2 -t 1 -q --hwaccel cuda -o "$tmp/ev-hw"
fallback_note eval
same_out "$tmp/ev-sw/summary.json" "$tmp/ev-hw/summary.json" "eval summary.json"
sort "$tmp/ev-sw/results.jsonl" >"$tmp/ev-sw.sorted"; sort "$tmp/ev-hw/results.jsonl" >"$tmp/ev-hw.sorted"
same_out "$tmp/ev-sw.sorted" "$tmp/ev-hw.sorted" "eval results.jsonl"

# Bad values: one line naming the value and the choices, exit 2, before any work.
expect 2 "classify bad --hwaccel" -- "$vidi" classify --hwaccel nvdec --model "$vivit" samples/clips/ssv2-vp9/1.webm
err_has "^vidi classify: --hwaccel 'nvdec': expected none or cuda$"; err_one_line
expect 2 "sample bad --hwaccel" -- "$vidi" sample --hwaccel CUDA -o "$tmp/x.safetensors" samples/clips/ssv2-vp9/1.webm
err_has "^vidi sample: --hwaccel 'CUDA': expected none or cuda$"; err_one_line
[ -e "$tmp/x.safetensors" ] && bad "sample wrote its output after a usage error" || ok
expect 2 "eval bad --hwaccel" -- "$vidi" eval "${ssv2[@]}" --hwaccel "" -o "$tmp/ev-bad"
err_has "^vidi eval: --hwaccel '': expected none or cuda$"; err_one_line
expect 2 "classify --hwaccel without a value" -- "$vidi" classify samples/clips/ssv2-vp9/1.webm --hwaccel
err_has "needs a value"; err_one_line

for cmd in classify sample eval; do
  expect 0 "$cmd --help" -- "$vidi" "$cmd" --help; out_has "--hwaccel NAME"
done
summary cli_hwaccel
