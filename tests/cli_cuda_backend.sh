#!/usr/bin/env bash
# --backend cpu|cuda|auto (and cuda-emu, the CUDA backend on its emulator):
# the real binary on real images, videos and checkpoints.
# Usage: tests/cli_cuda_backend.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

vit=samples/models/vit-shapes
vivit=tests/golden/vivit_fe/model.safetensors
images="samples/images/circle_1.jpg samples/images/cross_1.png"
clip=samples/clips/ssv2-vp9/1.webm

# Without a GPU (this machine, CI) "cuda" is a clear error, one line, and
# "auto" runs on the CPU and says so once.
if "$vidi" classify --backend cuda --model "$vit" $images >"$tmp/out" 2>"$tmp/err"; then
  echo "note: a CUDA device is present; the no-device checks are skipped"
else
  expect 2 "cuda without a device" -- "$vidi" classify --backend cuda --model "$vit" $images
  err_one_line
  if grep -q "not built" "$tmp/err"; then err_has "configure with -DVIDI_CUDA=ON"; else err_has "no CUDA device"; fi
  expect 0 "auto without a device" -- "$vidi" classify --backend auto --model "$vit" $images
  err_has "using the CPU"; err_one_line
  out_has "circle"
fi

# The emulated CUDA backend ranks like the CPU (ViT on images, ViViT on a video).
labels() { awk 'NF == 3 { print $2 }' "$1"; }
for input in "$vit|$images" "$vivit|$clip"; do
  model=${input%%|*}; files=${input#*|}
  expect 0 "cpu $model" -- "$vidi" classify --backend cpu --model "$model" $files
  labels "$tmp/out" >"$tmp/cpu"
  expect 0 "cuda-emu $model" -- "$vidi" classify --backend cuda-emu --model "$model" $files
  labels "$tmp/out" >"$tmp/emu"
  if [ -s "$tmp/cpu" ] && cmp -s "$tmp/cpu" "$tmp/emu"; then ok; else bad "cuda-emu ranks differ from cpu for $model"; fi
done

# Diffusion on the emulated CUDA backend: the same frames as on the CPU.
den=tests/golden/diffusion/den_plain/model.safetensors
for b in cpu cuda-emu; do
  expect 0 "generate --backend $b" -- "$vidi" generate --model "$den" --steps 3 --seed 1 --backend "$b" -q -o "$tmp/gen-$b"
done
if [ -f "$tmp/gen-cpu/frame_000000.png" ] && diff -r "$tmp/gen-cpu" "$tmp/gen-cuda-emu" >/dev/null; then ok
else bad "generate: cuda-emu frames differ from cpu frames"; fi

# --hwaccel cuda: NVDEC when possible, else software decode said once, never a failure.
expect 0 "probe --hwaccel cuda" -- "$vidi" probe --hwaccel cuda --json "$clip"
out_has '"hwaccel":'
if grep -q '"hwaccel":"cuda"' "$tmp/out"; then ok; else err_has "decoding in software"; err_one_line; fi
expect 0 "frames --hwaccel cuda" -- "$vidi" frames --hwaccel cuda --indices 0,5 -o "$tmp/frames" "$clip"
if [ -f "$tmp/frames/frame_000005.png" ]; then ok; else bad "frames --hwaccel cuda wrote no frame 5"; fi
expect 2 "bad --hwaccel" -- "$vidi" probe --hwaccel vulkan "$clip"; err_has "expected none or cuda"; err_one_line

expect 0 "classify --help lists the backends" -- "$vidi" classify --help; out_has "cuda-emu"; out_has "auto"
summary cli_cuda_backend
