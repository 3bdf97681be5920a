#!/usr/bin/env bash
# Video decode benchmark (docs/perf.md, "Video decode"). Run from the repo root
# after building build/ (Release):  bash bench/decode.sh [build-dir]
#  1. decode + resize to 224x224 of a 10 s 1080p H.264 clip with 2 threads:
#     vidi vs `ffmpeg -threads 2 -i X -vf scale=224:224 -f null -`, same run;
#  2. uniform sampling of 32 frames vs decoding every frame (vidi).
# Each number is the best of 3 runs. The clip is generated into /tmp.
set -euo pipefail
build=${1:-build}
gop=${VIDI_BENCH_GOP:-30}   # keyframe interval of the generated clip (frames)
clip=/tmp/vidi_bench_1080p_g$gop.mp4
if [ ! -f "$clip" ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -t 10 \
    -c:v libx264 -preset veryfast -g "$gop" -pix_fmt yuv420p "$clip"
fi
bin=/tmp/vidi_bench_decode
gst_pc=""
grep -q '^GST_FOUND:INTERNAL=1' "$build/CMakeCache.txt" && gst_pc="gstreamer-1.0 gstreamer-app-1.0 gstreamer-video-1.0"
blas=openblas
cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude bench/decode.c "$build/libvidi.a" -o "$bin" \
  $(pkg-config --libs libavformat libavcodec libswscale libavutil libcjson $blas $gst_pc) -lpthread -lm

best() { sort -n | head -n 1; }
frames=$(ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets -of csv=p=0 "$clip")
echo "clip: $clip ($frames frames, 1920x1080, H.264 veryfast, keyframe every $gop frames)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"

ff=$(for i in 1 2 3; do
  s=$(date +%s.%N)
  ffmpeg -hide_banner -loglevel error -threads 2 -i "$clip" -vf scale=224:224 -f null - 
  python3 -c "print($(date +%s.%N) - $s)"
done | best)
vd=$(for i in 1 2 3; do "$bin" all "$clip" 224 2 | awk '{print $3}'; done | best)
python3 - "$frames" "$ff" "$vd" <<'PY'
import sys
n, ff, vd = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"decode+resize 224, 2 threads: ffmpeg {n/ff:.1f} frames/s ({ff:.2f} s), vidi {n/vd:.1f} frames/s ({vd:.2f} s): {ff/vd:.2f}x ffmpeg")
PY
un=$(for i in 1 2 3; do "$bin" uniform "$clip" 32 2 | awk '{print $3}'; done | best)
python3 - "$vd" "$un" <<'PY'
import sys
vd, un = float(sys.argv[1]), float(sys.argv[2])
print(f"uniform 32 frames: {un:.2f} s vs every frame {vd:.2f} s: {vd/un:.2f}x faster")
PY
