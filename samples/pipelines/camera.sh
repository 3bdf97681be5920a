#!/usr/bin/env bash
# Live camera: v4l2src -> vivitclassify (async: the camera never waits) ->
# labels drawn on screen; JSON lines on stdout.
#   samples/pipelines/camera.sh [/dev/video0] [MODEL]
set -euo pipefail
device=${1:-/dev/video0}
model=${2:-${MODEL:-}}
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-build/plugins}
exec gst-launch-1.0 -q v4l2src device="$device" ! videoconvert ! videoscale ! \
  video/x-raw,width=640,height=480 ! \
  vivitclassify ${model:+model="$model"} async=true window-stride="${WINDOW_STRIDE:-4}" top-k=3 ! \
  tee name=t ! queue leaky=downstream max-size-buffers=2 ! vidijsonsink \
  t. ! queue ! vidioverlay ! videoconvert ! autovideosink sync=false
