#!/usr/bin/env bash
# A live 30 fps source (videotestsrc is-live=true) through vivitclassify in
# async mode: inference never blocks the video; windows are skipped (and
# counted in each result's skipped_windows) when the model is slower than
# the window stride. JSON lines on stdout.
#   samples/pipelines/live_test.sh [SECONDS] [MODEL]
set -euo pipefail
seconds=${1:-5}
model=${2:-${MODEL:-}}
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-build/plugins}
sink=${SINK:-fakesink sync=true}
exec gst-launch-1.0 -q videotestsrc is-live=true pattern=ball num-buffers=$((seconds * 30)) ! \
  video/x-raw,width=320,height=240,framerate=30/1 ! \
  vivitclassify ${model:+model="$model"} async=true window-stride="${WINDOW_STRIDE:-4}" top-k=3 ! \
  tee name=t ! queue leaky=downstream max-size-buffers=2 ! vidijsonsink \
  t. ! queue ! vidioverlay ! videoconvert ! $sink
