#!/usr/bin/env bash
# make demo: classify the sample images with the shipped shape ViT.
set -euo pipefail
vidi="${1:-build/vidi}"
model=samples/models/vit-shapes
echo "== vidi classify --model $model --top-k 3 samples/images/*"
"$vidi" classify --model "$model" --top-k 3 samples/images/*.png samples/images/*.jpg
echo
echo "== the same, as JSON (first image)"
first=$(ls samples/images/*.png | head -n1)
"$vidi" classify --model "$model" --top-k 2 --json "$first"
echo
echo "== vidi bench --model $model --iters 20"
"$vidi" bench --model "$model" --iters 20
