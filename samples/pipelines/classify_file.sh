#!/usr/bin/env bash
# Action recognition on a video file: one JSON line per window on stdout,
# labels drawn on the video (SINK=autovideosink to watch it).
#   samples/pipelines/classify_file.sh CLIP [MODEL]
# MODEL unset: the default model (samples/models/vivit-synth.safetensors or
# $VIDI_MODEL_DIR). GST_PLUGIN_PATH defaults to build/plugins.
set -euo pipefail
clip=${1:?usage: classify_file.sh CLIP [MODEL]}
model=${2:-${MODEL:-}}
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-build/plugins}
sink=${SINK:-fakesink}
exec gst-launch-1.0 -q filesrc location="$clip" ! decodebin ! videoconvert ! \
  vivitclassify ${model:+model="$model"} window-stride="${WINDOW_STRIDE:-4}" top-k=3 ! \
  tee name=t ! queue ! vidijsonsink \
  t. ! queue ! vidioverlay ! videoconvert ! "$sink"
