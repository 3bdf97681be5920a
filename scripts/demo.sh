#!/usr/bin/env bash
# make demo: classify the sample clips with the default video model (a
# factorised-encoder ViViT, docs/video-model.md) and the sample images with
# the shipped shape ViT; generate and in-paint a clip with the default
# diffusion model (docs/diffusion.md).
set -euo pipefail
vidi="${1:-build/vidi}"
clips=(samples/clips/ssv2-vp9/*.webm)
echo "== vidi classify --top-k 3 samples/clips/ssv2-vp9/*.webm   (default video model)"
env -u VIDI_MODEL_DIR "$vidi" classify --top-k 3 "${clips[@]}"
echo
echo "== the true labels (samples/clips/ssv2-vp9/{train,validation}.json)"
python3 - samples/clips/ssv2-vp9 <<'PY'
import json, os, sys
d = sys.argv[1]
rows = [e for s in ("train", "validation") for e in json.load(open(os.path.join(d, s + ".json")))]
for e in sorted(rows, key=lambda e: e["id"]):
    print(f"{e['id']}.webm: {e['template'].replace('[', '').replace(']', '')}")
PY
echo
echo "== streaming: one result per window of 16 frames, every 8 frames (a 16-frame clip has one window)"
env -u VIDI_MODEL_DIR "$vidi" classify --stream --window-stride 8 --top-k 1 "${clips[0]}"
echo
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
echo
out=$(mktemp -d /tmp/vidi-demo.XXXXXX)
echo "== vidi generate --label 'Moving something up' --steps 50 -o $out/up.gif   (default diffusion model)"
env -u VIDI_MODEL_DIR "$vidi" generate --label "Moving something up" --steps 50 -q -o "$out/up.gif"
echo
echo "== vidi inpaint --mask predict:8 ${clips[0]} -o $out/future.gif   (the last 8 of 16 frames predicted)"
env -u VIDI_MODEL_DIR "$vidi" inpaint --mask predict:8 -q "${clips[0]}" -o "$out/future.gif"
echo "(the default diffusion model is partly trained: docs/diffusion.md gives its quality)"
