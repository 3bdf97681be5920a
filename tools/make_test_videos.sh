#!/usr/bin/env bash
# Regenerates tests/fixtures/video/: tiny videos (the whole set stays well under
# 1 MB) that exercise the decoder's awkward cases. Deterministic: single-threaded
# encoders, -bitexact, fixed sources, so rerunning gives the same bytes on the
# same FFmpeg version. Run from the repo root:  bash tools/make_test_videos.sh
set -euo pipefail
out=tests/fixtures/video
mkdir -p "$out"
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
src() { echo "testsrc2=size=$1:rate=${2:-25}"; }
be=(-bitexact -fflags +bitexact -flags:v +bitexact -map_metadata -1)
x264=(-c:v libx264 -threads 1 -preset veryfast)

# Constant frame rate H.264 with B-frames and a keyframe every 12 frames, so
# random access really seeks: 50 frames, 25 fps, 96x64.
ff -f lavfi -i "$(src 96x64)" -frames:v 50 "${x264[@]}" -g 12 -keyint_min 12 -sc_threshold 0 \
   -bf 2 -pix_fmt yuv420p -movflags +faststart "${be[@]}" "$out/cfr.mp4"

# Variable frame rate: 10 frames 40 ms apart, then 20 frames 100 ms apart.
ff -f lavfi -i "$(src 64x48)" -frames:v 30 \
   -vf "settb=1/1000,setpts='if(lt(N,10),N*0.04,0.4+(N-10)*0.1)/TB'" -fps_mode passthrough -enc_time_base 1:1000 \
   "${x264[@]}" -g 8 -bf 0 -pix_fmt yuv420p -video_track_timescale 1000 "${be[@]}" "$out/vfr.mp4"

# Odd size (4:2:0 with odd width and height), VP9.
ff -f lavfi -i "$(src 128x96)" -frames:v 12 -vf scale=97:61,format=yuv420p -c:v libvpx-vp9 -threads 1 -deadline good -cpu-used 8 \
   -g 6 -pix_fmt yuv420p "${be[@]}" "$out/odd_97x61.webm"

# Rotation metadata: coded 64x48, displayed 48x64 (90 degrees).
ff -f lavfi -i "$(src 64x48)" -frames:v 12 "${x264[@]}" -g 6 -pix_fmt yuv420p "${be[@]}" /tmp/vidi_rot_src.mp4
ff -i /tmp/vidi_rot_src.mp4 -c copy -metadata:s:v:0 rotate=90 "${be[@]}" "$out/rotated.mp4"
rm -f /tmp/vidi_rot_src.mp4

# 10-bit: H.264 High 10 and HEVC Main 10.
ff -f lavfi -i "$(src 64x48)" -frames:v 12 "${x264[@]}" -g 6 -pix_fmt yuv420p10le "${be[@]}" "$out/h264_10bit.mp4"
ff -f lavfi -i "$(src 64x48)" -frames:v 12 -c:v libx265 -preset veryfast -pix_fmt yuv420p10le \
   -x265-params "pools=1:frame-threads=1:log-level=0:keyint=6" -tag:v hvc1 "${be[@]}" "$out/hevc_10bit.mp4"

# Full-range (yuvj) Motion JPEG in AVI.
ff -f lavfi -i "$(src 64x48)" -frames:v 12 -c:v mjpeg -pix_fmt yuvj420p -q:v 5 "${be[@]}" "$out/yuvj_mjpeg.avi"

# Audio only, with a video extension.
ff -f lavfi -i "sine=frequency=440:sample_rate=8000" -t 0.25 -c:a aac -b:a 16k "${be[@]}" "$out/audio_only.mp4"

# A video stream with zero frames (YUV4MPEG header, no FRAME chunks), a 0x0
# one and one whose header claims 40000x40000.
printf 'YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n' >"$out/zero_frames.y4m"
printf 'YUV4MPEG2 W0 H0 F25:1 Ip A1:1 C420jpeg\n' >"$out/zero_size.y4m"
printf 'YUV4MPEG2 W40000 H40000 F25:1 Ip A1:1 C420jpeg\nFRAME\n' >"$out/huge.y4m"

# Truncated: the first 55% of cfr.mp4 (faststart, so the index survives but
# the media data ends early).
size=$(stat -c %s "$out/cfr.mp4")
head -c $((size * 55 / 100)) "$out/cfr.mp4" >"$out/truncated.mp4"

# Garbage bytes with a video extension (deterministic pseudo-random).
python3 - "$out/garbage.mp4" <<'PY'
import sys
x, b = 12345, bytearray()
for _ in range(4096):
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    b.append((x >> 16) & 0xFF)
open(sys.argv[1], "wb").write(bytes(b))
PY

# Unsupported codec: the MJPEG AVI with its FOURCC replaced by one no decoder claims.
python3 - "$out/yuvj_mjpeg.avi" "$out/unsupported_codec.avi" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(data.replace(b"MJPG", b"VQZ9"))
PY

# Partly corrupt: 25 MJPEG frames with the payload of frames 10-12 overwritten,
# so those frames cannot be decoded while the others can.
ff -f lavfi -i "$(src 64x48)" -frames:v 25 -c:v mjpeg -pix_fmt yuvj420p -q:v 5 "${be[@]}" /tmp/vidi_corrupt_src.avi
python3 - /tmp/vidi_corrupt_src.avi "$out/corrupt.avi" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
# Walk the 'movi' list: chunks are FOURCC, little-endian size, payload (even-padded).
pos = data.index(b"movi") + 4
frame = 0
while pos + 8 <= len(data) and frame <= 12:
    tag, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
    if tag[2:] == b"dc":
        if frame >= 10:
            data[pos + 8:pos + 8 + size] = b"\x00" * size
        frame += 1
    pos += 8 + size + (size & 1)
open(sys.argv[2], "wb").write(bytes(data))
PY
rm -f /tmp/vidi_corrupt_src.avi

du -cb "$out"/* | tail -n 1
