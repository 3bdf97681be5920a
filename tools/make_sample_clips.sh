#!/usr/bin/env bash
# Regenerates samples/clips/: three tiny synthetic datasets, one per codec,
# made by `vidi synth` (deterministic, so a rerun gives the same bytes).
# Usage: tools/make_sample_clips.sh [path/to/vidi]   (run from the repo root)
set -euo pipefail
vidi="${1:-build/vidi}"
out=samples/clips
# name        layout    codec  clips  (160x120, 16 frames at 12 fps, seed 1)
specs=(
  "ssv2-vp9      ssv2     vp9    12"
  "kinetics-h264 kinetics h264   12"
  "ssv2-mjpeg    ssv2     mjpeg  3"
)
for spec in "${specs[@]}"; do
  read -r name layout codec clips <<<"$spec"
  rm -rf "${out:?}/$name"
  "$vidi" synth --out "$out/$name" --layout "$layout" --codec "$codec" --clips "$clips" --seed 1 \
    --size 160x120 --frames 16 --fps 12
done
du -sh "$out"
