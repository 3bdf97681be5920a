#!/usr/bin/env bash
# End-to-end tests of `vidi classify` on videos: the real binary, real encoded
# clips, the tiny ViViT checkpoints of tests/golden (a factorised encoder and
# a Hugging Face model-1 directory). JSON schema, views, the default model,
# --stream windows (time ranges, equal to classify on the same frames), the
# GStreamer decoder, and every kind of bad input.
# Usage: tests/cli_classify_video.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
# In the sanitizer build: GStreamer/GLib's one-time allocations are not vidi's leaks.
printf 'leak:libglib-2.0.so\nleak:libgstlibav.so\nleak:libgstreamer-1.0.so\nleak:libgobject-2.0.so\n' >"$tmp/lsan.supp"
export LSAN_OPTIONS="suppressions=$tmp/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

fe=tests/golden/vivit_fe/model.safetensors   # model 2, 8 frames, tubelet 2x8x8, 32x32
hf=tests/golden/vivit_hf                     # model 1, Hugging Face directory
vit=samples/models/vit-shapes
clip=samples/clips/ssv2-vp9/1.webm           # 160x120, 16 frames, 12 fps
clip2=samples/clips/ssv2-mjpeg/2.avi
fix=tests/fixtures/video

# Videos made here with ffmpeg: exactly one window (8 frames), shorter than a
# clip (5 frames, square, so three crops cannot differ).
ffmpeg -v error -f lavfi -i testsrc=size=64x48:rate=8 -frames:v 8 -pix_fmt yuv420p "$tmp/eight.mp4" &&
  ffmpeg -v error -f lavfi -i testsrc=size=32x32:rate=8 -frames:v 5 -pix_fmt yuv420p "$tmp/five.mp4" &&
  ok || bad "ffmpeg could not make the test videos"

expect 0 "classify --help" -- "$vidi" classify --help; out_has "--views"; out_has "--stream"; out_has "--window-stride"
out_has "vivit-synth.safetensors"

# JSON schema: one object per input, views and frames, softmax of the logits.
expect 0 "2x3 json" -- "$vidi" classify --model "$fe" --views 2x3 --top-k 3 --json "$clip" "$clip2"
out_lines 2
python3 - "$tmp/out" "$clip" "$clip2" <<'PY' && ok || bad "2x3 JSON fields"
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["input"] for r in rows] == sys.argv[2:], rows
for r in rows:
    assert set(r) == {"input", "views", "frames", "frames_lost", "top", "logits"}, set(r)
    assert r["views"] == {"temporal": 2, "spatial": 3} and r["frames_lost"] == 0
    # 16 frames, 2 uniform clips of 8: centres of the 8 segments, shifted by 1/4 and 3/4.
    assert r["frames"] == [[0, 2, 4, 6, 8, 10, 12, 14], [1, 3, 5, 7, 9, 11, 13, 15]], r["frames"]
    lg = r["logits"]
    assert len(lg) == 5 and len(r["top"]) == 3
    z = sum(math.exp(x - max(lg)) for x in lg)
    order = sorted(range(5), key=lambda i: -lg[i])
    for t, i in zip(r["top"], order):
        assert t["index"] == i and t["label"] == "action_%d" % i, (t, i)
        assert abs(t["score"] - math.exp(lg[i] - max(lg)) / z) < 1e-6
PY
# Views change the result (the averaging is not a no-op), 1x1 is the default.
expect 0 "1x1 json" -- "$vidi" classify --model "$fe" --json "$clip"; cp "$tmp/out" "$tmp/one.json"
expect 0 "default views" -- "$vidi" classify --model "$fe" --views 1x1 --json "$clip"
cmp -s "$tmp/out" "$tmp/one.json" && ok || bad "--views 1x1 differs from the default"
expect 0 "1x3 json" -- "$vidi" classify --model "$fe" --views 1x3 --json "$clip"
cmp -s "$tmp/out" "$tmp/one.json" && bad "1x3 gave the same logits as 1x1" || ok

# Text output; the Hugging Face model-1 directory works the same way.
expect 0 "text" -- "$vidi" classify --model "$fe" --top-k 2 "$clip"; out_has "^$clip\$"; out_has "  1\. action_"; out_lines 3
expect 0 "hf model 1" -- "$vidi" classify --model "$hf" --views 2x1 --top-k 1 "$clip"; out_has "action_"

# Default model: $VIDI_MODEL_DIR/vivit-synth.safetensors, same result as --model.
mkdir "$tmp/models" && ln -s "$PWD/$fe" "$tmp/models/vivit-synth.safetensors"
VIDI_MODEL_DIR="$tmp/models" expect 0 "default model" -- "$vidi" classify --json "$clip"
cmp -s "$tmp/out" "$tmp/one.json" && ok || bad "default model result differs from --model $fe"
VIDI_MODEL_DIR="$tmp/none" expect 1 "default model missing" -- "$vidi" classify "$clip"
err_has "no default video model"; err_has "$tmp/none/vivit-synth.safetensors"; err_one_line

# A video shorter than a clip: frames repeat (uniform sampling), classified.
expect 0 "short video" -- "$vidi" classify --model "$fe" --json "$tmp/five.mp4"
python3 -c "
import json; r = json.load(open('$tmp/out'))
assert r['frames'] == [[0, 0, 1, 2, 2, 3, 4, 4]], r['frames']" && ok || bad "short video frames"
# Views larger than the video: one line, exit 1, the other inputs still classified.
expect 1 "too many clips" -- "$vidi" classify --model "$fe" --views 16x1 --top-k 1 "$clip" $fix/cfr.mp4
err_has "larger than the video"; err_has "16 frames are too few for 16 different clips"; err_one_line; out_lines 2
out_has "cfr.mp4"
expect 1 "three crops of a square" -- "$vidi" classify --model "$fe" --views 1x3 "$tmp/five.mp4"
err_has "three different 32x32 crops"; err_one_line

# Bad inputs among good ones: each one line, exit 1, the good ones printed.
printf 'not a video' >"$tmp/garbage.mp4"
expect 1 "bad inputs" -- "$vidi" classify --model "$fe" --top-k 1 --json "$clip" /no/such.mp4 "$tmp/garbage.mp4" \
  samples/images/circle_2.png $fix/zero_frames.y4m $fix/audio_only.mp4 "$clip2"
out_lines 2; err_has "/no/such.mp4"; err_has "$tmp/garbage.mp4"; err_has "circle_2.png: is an image"
err_has "zero_frames.y4m: no video frames"; err_has "audio_only.mp4: no video stream"
if [ "$(wc -l <"$tmp/err")" -eq 5 ]; then ok; else bad "expected 5 error lines: $(cat "$tmp/err")"; fi
# A video with corrupt frames: classified (nearest earlier frames stand in), but said so and exit 1.
expect 1 "corrupt frames" -- "$vidi" classify --model "$fe" --json $fix/corrupt.avi
out_lines 1; err_has "could not be decoded"; err_one_line
python3 -c "import json; assert json.load(open('$tmp/out'))['frames_lost'] > 0" && ok || bad "frames_lost"

# Model/input kind mismatches.
expect 1 "video to a ViT" -- "$vidi" classify --model "$vit" "$clip" samples/images/circle_2.png
err_has "is a video, but $vit is a ViT"; err_one_line; out_has "circle_2.png"
expect 2 "views on a ViT" -- "$vidi" classify --model "$vit" --views 2x1 samples/images/circle_2.png
err_has "ViT (image) model"; err_one_line
expect 2 "heads on a ViViT" -- "$vidi" classify --model "$fe" --heads 2 "$clip"; err_has "--heads"; err_one_line

# Usage errors: exit 2, one line.
expect 2 "bad views" -- "$vidi" classify --model "$fe" --views 2x2 "$clip"; err_has "--views"; err_one_line
expect 2 "bad decoder" -- "$vidi" classify --model "$fe" --decoder vlc "$clip"; err_has "vlc"; err_one_line
expect 2 "stride without stream" -- "$vidi" classify --model "$fe" --window-stride 4 "$clip"; err_has "need --stream"
expect 2 "stream with views" -- "$vidi" classify --model "$fe" --stream --views 2x1 "$clip"; err_has "do not mix"
expect 2 "stream, model 1" -- "$vidi" classify --model "$hf" --stream "$clip" "$clip2"
err_has "factorised-encoder (model 2)"; err_one_line
expect 2 "stride vs tubelet" -- "$vidi" classify --model "$fe" --stream --window-stride 3 "$clip"
err_has "multiple of the model's tubelet depth 2"; err_one_line

# --stream: windows every 4 frames over 16 frames at 12 fps, with time ranges.
expect 0 "stream json" -- "$vidi" classify --model "$fe" --stream --window-stride 4 --json --top-k 1 "$clip"
python3 - "$tmp/out" <<'PY' && ok || bad "stream windows"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["window"] for r in rows] == [0, 1, 2], rows
assert [r["frames"] for r in rows] == [[0, 7], [4, 11], [8, 15]], [r["frames"] for r in rows]
for r in rows:
    a, b = r["frames"]
    assert abs(r["start"] - a / 12) < 1e-3 and abs(r["end"] - b / 12) < 1e-3, r
    assert len(r["logits"]) == 5 and r["top"][0]["label"].startswith("action_")
PY
expect 0 "stream text" -- "$vidi" classify --model "$fe" --stream --window-stride 4 --top-k 1 "$clip"
out_has "\[0.333-0.917 s, frames 4-11\]"; out_lines 6
expect 0 "stream frame stride" -- "$vidi" classify --model "$fe" --stream --frame-stride 2 --json "$clip"
out_lines 1; out_has '"frames":\[0,14\]'
expect 1 "stream too short" -- "$vidi" classify --model "$fe" --stream --json "$tmp/five.mp4" "$clip"
err_has "fewer than one window of 8 frames"; err_one_line; out_lines 5
# A video of exactly one window: the window sees the frames classify samples.
expect 0 "classify eight" -- "$vidi" classify --model "$fe" --json "$tmp/eight.mp4"; cp "$tmp/out" "$tmp/eight_c.json"
expect 0 "stream eight" -- "$vidi" classify --model "$fe" --stream --json "$tmp/eight.mp4"; out_lines 1
python3 - "$tmp/eight_c.json" "$tmp/out" <<'PY' && ok || bad "stream window differs from classify on the same frames"
import json, sys
c, s = (json.load(open(p)) for p in sys.argv[1:])
assert c["frames"] == [list(range(8))] and s["frames"] == [0, 7]
scale = max(abs(x) for x in c["logits"])
err = max(abs(a - b) for a, b in zip(c["logits"], s["logits"])) / scale
assert err <= 1e-5, err
PY

# The GStreamer decoder (when built): same frames as FFmpeg for VP9, same logits.
if "$vidi" probe --decoder gst "$clip" >/dev/null 2>&1; then
  expect 0 "gst decoder" -- "$vidi" classify --model "$fe" --decoder gst --json "$clip"
  cmp -s "$tmp/out" "$tmp/one.json" && ok || bad "--decoder gst differs from ffmpeg on VP9"
  expect 0 "gst stream" -- "$vidi" classify --model "$fe" --decoder gst --stream --window-stride 4 --json "$clip"
  out_lines 3
else
  expect 2 "gst not built" -- "$vidi" classify --model "$fe" --decoder gst "$clip"; err_has "gst"
fi

# The shipped default video model (samples/models/vivit-synth.safetensors,
# docs/video-model.md): no --model, the SSv2-layout sample clips, labels from their files.
if [ -f samples/models/vivit-synth.safetensors ]; then
  expect 0 "default model on sample clips" -- env -u VIDI_MODEL_DIR "$vidi" classify --json --top-k 1 \
    samples/clips/ssv2-vp9/*.webm
  python3 - "$tmp/out" samples/clips/ssv2-vp9 <<'PY' && ok || bad "default model: sample clips misclassified"
import json, os, sys
d = sys.argv[2]
labels = json.load(open(os.path.join(d, "labels.json")))
truth = {}
for split in ("train", "validation"):
    for e in json.load(open(os.path.join(d, split + ".json"))):
        truth[e["id"]] = int(labels[e["template"].replace("[", "").replace("]", "")])
rows = [json.loads(l) for l in open(sys.argv[1])]
names = {v: k for k, v in labels.items()}
def correct(r):
    want, top = truth[os.path.basename(r["input"]).split(".")[0]], r["top"][0]
    # By name when the model's labels are the class names, else by index.
    return top["label"] == names[str(want)] if top["label"] in labels else top["index"] == want
right = sum(correct(r) for r in rows)
print(f"default model: {right}/{len(rows)} sample clips right", file=sys.stderr)
assert len(rows) == len(truth) and right >= 0.75 * len(rows), (right, len(rows))
PY
else
  bad "samples/models/vivit-synth.safetensors (the shipped default model) is missing"
fi

# vidi bench on a ViViT: full forward and the streaming step, JSON fields.
expect 0 "bench vivit" -- "$vidi" bench --model "$fe" --iters 3 --warmup 1 --threads 1 --window-stride 4 --logits --json
python3 - "$tmp/out" <<'PY' && ok || bad "bench vivit JSON"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["kind"] == "vivit" and o["iters"] == 3 and o["gflop"] > 0 and len(o["logits"]) == 5, o
assert o["min_ms"] <= o["median_ms"] <= o["max_ms"]
s = o["stream"]
assert s["window_stride"] == 4 and s["min_ms"] <= s["median_ms"] <= s["max_ms"] and s["full_over_step"] > 0, s
PY
expect 0 "bench text" -- "$vidi" bench --model "$hf" --iters 2 --warmup 0; out_has "ViViT"
expect 2 "bench stride, model 1" -- "$vidi" bench --model "$hf" --window-stride 2; err_has "factorised-encoder"
expect 2 "bench stride vs tubelet" -- "$vidi" bench --model "$fe" --window-stride 3; err_has "tubelet depth 2"

summary cli_classify_video
