#!/usr/bin/env bash
# End-to-end tests of `vidi probe` and `vidi frames` on tests/fixtures/video.
# Usage: tests/cli_video.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
listener_pid=""
trap 'rm -rf "$tmp"; [ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null' EXIT
. tests/lib.sh
v=tests/fixtures/video
# In the sanitizer build: GStreamer/GLib's one-time allocations are not vidi's leaks.
printf 'leak:libglib-2.0.so\nleak:libgstlibav.so\nleak:libgstreamer-1.0.so\nleak:libgobject-2.0.so\n' >"$tmp/lsan.supp"
export LSAN_OPTIONS="suppressions=$tmp/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

expect 0 "probe --help" -- "$vidi" probe --help; out_has "--json"
expect 0 "frames --help" -- "$vidi" frames --help; out_has "uniform:N"
expect 0 "help lists probe" -- "$vidi" --help; out_has "probe"; out_has "frames"

# probe: text and JSON.
expect 0 "probe cfr" -- "$vidi" probe $v/cfr.mp4; out_has "96x64"; out_has "frames     50"
expect 0 "probe json" -- "$vidi" probe --json $v/rotated.mp4 $v/vfr.mp4
python3 - "$tmp/out" <<'PY' && ok || bad "probe --json fields"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["input"].split("/")[-1] for r in rows] == ["rotated.mp4", "vfr.mp4"], rows
r = rows[0]
assert (r["width"], r["height"], r["rotation"], r["frames"], r["frames_exact"]) == (48, 64, 270, 12, True), r
assert rows[1]["frames"] == 30 and rows[1]["codec"] == "h264"
PY
expect 0 "probe truncated" -- "$vidi" probe $v/truncated.mp4; out_has "lost"

# frames: indices and uniform sampling write PNGs the size of the video.
expect 0 "frames indices" -- "$vidi" frames $v/cfr.mp4 --indices 0,25,49 -o "$tmp/f1"
[ -f "$tmp/f1/frame_000000.png" ] && [ -f "$tmp/f1/frame_000049.png" ] && ok || bad "frames: PNGs missing"
out_has "index 25  pts 1.000 s  96x64"
expect 0 "frames uniform" -- "$vidi" frames $v/vfr.mp4 --sample uniform:4 --shorter 24 -o "$tmp/f2"
out_has "frame_000011.png  index 11  pts 0.500 s  32x24"
[ "$(ls "$tmp/f2" | wc -l)" -eq 4 ] && ok || bad "frames uniform: expected 4 PNGs"
expect 0 "frames clips" -- "$vidi" frames $v/cfr.mp4 --sample clips:2:4:3 --size 20x10 -o "$tmp/f3"; out_has "20x10"
expect 0 "frames corrupt" -- "$vidi" frames $v/corrupt.avi --indices 9,11,20 -o "$tmp/f4"; err_has "frames lost"
if "$vidi" probe --decoder gst $v/cfr.mp4 >/dev/null 2>&1; then
  expect 0 "frames gst" -- "$vidi" frames --decoder gst $v/cfr.mp4 --indices 3 -o "$tmp/f5"; out_has "index 3  pts 0.120 s"
else
  expect 2 "gst not built" -- "$vidi" probe --decoder gst $v/cfr.mp4; err_has "not built with GStreamer"
fi

# Usage errors: exit 2.
expect 2 "frames no output" -- "$vidi" frames $v/cfr.mp4 --indices 1; err_has "-o DIR is required"
expect 2 "frames both" -- "$vidi" frames $v/cfr.mp4 --indices 1 --sample uniform:2 -o "$tmp/x"; err_has "exactly one"
expect 2 "frames bad indices" -- "$vidi" frames $v/cfr.mp4 --indices 1,,2 -o "$tmp/x"; err_has "--indices"
expect 2 "frames bad sample" -- "$vidi" frames $v/cfr.mp4 --sample random:3 -o "$tmp/x"; err_has "--sample"
expect 2 "bad decoder" -- "$vidi" probe --decoder vlc $v/cfr.mp4; err_has "decoder 'vlc'"; err_one_line
expect 2 "probe nothing" -- "$vidi" probe; err_has "no input video"

# Bad input: exit 1, one line naming the input and the reason.
expect 1 "frames past end" -- "$vidi" frames $v/cfr.mp4 --indices 50 -o "$tmp/x"; err_has "past the end"; err_one_line
for f in missing.mp4:"No such file" garbage.mp4:"not a readable video" audio_only.mp4:"audio only" \
         zero_frames.y4m:"no video frames" zero_size.y4m:"not a readable video" huge.y4m:"not a readable video" \
         unsupported_codec.avi:"unsupported video codec"; do
  name=${f%%:*}; reason=${f#*:}
  expect 1 "probe $name" -- "$vidi" probe $v/$name; err_has "$v/$name"; err_has "$reason"; err_one_line
  expect 1 "frames $name" -- "$vidi" frames $v/$name --indices 0 -o "$tmp/x"; err_one_line
done
chmod 000 "$tmp" 2>/dev/null
if [ "$(id -u)" -ne 0 ]; then
  expect 1 "unreadable" -- "$vidi" probe "$tmp/none.mp4"; err_one_line
fi
chmod 700 "$tmp"

# Network: a closed port and a listener that never answers both fail fast.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
start=$(date +%s.%N)
expect 1 "closed port" -- "$vidi" probe --timeout 2 "http://127.0.0.1:$port/x.mp4"; err_has "127.0.0.1:$port"; err_one_line
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(30)' >"$tmp/port" &
listener_pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
start=$(date +%s.%N)
expect 1 "silent server" -- "$vidi" probe --timeout 2 "http://127.0.0.1:$port/x.mp4"; err_has "timed out"; err_one_line
took=$(python3 -c "print($(date +%s.%N) - $start)")
python3 -c "import sys; sys.exit(0 if $took < 5 else 1)" && ok || bad "silent server took ${took}s"

summary cli_video
