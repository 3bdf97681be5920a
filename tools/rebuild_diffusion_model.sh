#!/usr/bin/env bash
# Rebuilds samples/models/diffusion-synth.safetensors: the default diffusion
# model's whole training history (docs/diffusion.md, "The run so far"), one
# tools/train_diffusion.py segment after another on the same WORK state.
# About 8 hours on 2 cores; bf16 and torch.compile make a rerun close to the
# shipped weights, not bit-identical.
# Usage: tools/rebuild_diffusion_model.sh [WORK]   (default /tmp/diffusion-train)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/diffusion-train}"
train() { python3 tools/train_diffusion.py --work "$work" "$@"; }
train --legacy-masks --prediction eps --min-snr 0 --x0-cap 0 --steps 2500
train --legacy-masks --prediction eps --resume --x0-cap 0 --steps 3500
train --legacy-masks --prediction eps --resume --steps 11000
train --legacy-masks --resume --steps 18899                       # velocity from here on
train --resume --steps 28500 --decay-from 18900 --stop-at 26579   # the new mask mix, a decaying rate
train --resume --steps 36000 --decay-from 26580 --lr 3e-4 --stop-at 32000  # a warm restart
# Export only (no training steps): the classifier-free guidance scale the model recommends,
# chosen by tools/eval_diffusion.py --guidance runs on 2026-12-03 (docs/diffusion.md).
train --resume --steps 32000 --default-guidance 8
