#!/usr/bin/env bash
# End-to-end tests of `vidi generate` and `vidi inpaint` with the tiny golden
# diffusion models (tests/golden/diffusion: 4 frames of 8x8, 5 classes, and a
# 3-frame 6x6 grey unconditional one): outputs decoded by ffprobe, same seed
# same bytes, every sampler and in-painting method, mask kinds, and the bad
# inputs of issue 7 (each a one-line error, non-zero exit, no output).
# Usage: tests/cli_diffusion.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

M=tests/golden/diffusion/den_inpaint/model.safetensors
P=tests/golden/diffusion/den_plain/model.safetensors
V=samples/clips/ssv2-vp9/1.webm
gen() { "$vidi" generate --model "$M" -q "$@"; }

frames_of() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height -of csv=p=0 "$1"; }

# Help.
expect 0 "generate --help" -- "$vidi" generate --help; out_has "--sampler"; out_has "--guidance"; out_has "--seed"
expect 0 "inpaint --help" -- "$vidi" inpaint --help; out_has "--mask"; out_has "repaint"; out_has "interpolate:K"
expect 0 "vidi --help lists both" -- "$vidi" --help; out_has "generate"; out_has "inpaint"

# Generation: files the decoder reads, same seed -> same bytes, other seed -> other bytes.
for ext in mp4 webm avi gif; do
  expect 0 "generate .$ext" -- gen --label b --seed 5 --steps 10 -o "$tmp/a.$ext"
  out_has "4 frames 8x8"; out_has "label 1 'b'"
  if [ "$(frames_of "$tmp/a.$ext")" = "8,8,4" ]; then ok; else bad ".$ext: ffprobe says $(frames_of "$tmp/a.$ext")"; fi
done
expect 0 "generate again" -- gen --label b --seed 5 --steps 10 -o "$tmp/b.mp4"
if cmp -s "$tmp/a.mp4" "$tmp/b.mp4"; then ok; else bad "same seed gave different bytes"; fi
expect 0 "generate other seed" -- gen --label b --seed 6 --steps 10 -o "$tmp/c.mp4"
if cmp -s "$tmp/a.mp4" "$tmp/c.mp4"; then bad "another seed gave the same bytes"; else ok; fi
for s in ddpm ddim dpm++; do
  expect 0 "sampler $s" -- gen --sampler "$s" --label 2 --guidance 2.5 --steps 8 -o "$tmp/s_$s.gif"; out_has "$s 8 steps"
done
expect 0 "ddim eta" -- gen --sampler ddim --eta 0.5 --steps 8 -o "$tmp/eta.gif"
expect 0 "generate to a directory" -- gen --steps 5 -o "$tmp/dir"
if [ "$(ls "$tmp/dir" | tr '\n' ' ')" = "frame_000000.png frame_000001.png frame_000002.png frame_000003.png " ]; then ok
else bad "directory output: $(ls "$tmp/dir")"; fi
expect 0 "json summary" -- gen --steps 5 --seed 18446744073709551615 --json -o "$tmp/j.gif"
out_has '"frames": 4'; out_has '"seed": "18446744073709551615"'; out_lines 1
expect 0 "grey unconditional model" -- "$vidi" generate --model "$P" -q --steps 20 -o "$tmp/grey.gif"
out_has "3 frames 6x6, unconditional"
expect 0 "ref backend" -- gen --backend ref --steps 3 -o "$tmp/ref.gif"
expect 0 "cuda-emu backend" -- gen --backend cuda-emu --steps 3 -o "$tmp/emu.gif"
# VIDI_CPU_ISA holds the cpu backend to narrower kernels: the same pixels.
gen --label 2 --seed 9 --steps 6 -o "$tmp/isa-best" >/dev/null
for isa in avx2 scalar; do
  expect 0 "VIDI_CPU_ISA=$isa" -- env VIDI_CPU_ISA=$isa "$vidi" generate --model "$M" -q --label 2 --seed 9 --steps 6 -o "$tmp/isa-$isa"
  if diff -r "$tmp/isa-best" "$tmp/isa-$isa" >/dev/null; then ok; else bad "VIDI_CPU_ISA=$isa changed the frames"; fi
done
expect 1 "VIDI_CPU_ISA unknown" -- env VIDI_CPU_ISA=sse "$vidi" generate --model "$M" -q --steps 3 -o "$tmp/isa.gif"
err_has "VIDI_CPU_ISA 'sse': unknown"; err_one_line
if [ -e "$tmp/isa.gif" ]; then bad "a failed run left $tmp/isa.gif"; else ok; fi

# The default model: $VIDI_MODEL_DIR/diffusion-synth.safetensors.
mkdir -p "$tmp/models" && cp "$M" "$tmp/models/diffusion-synth.safetensors"
expect 0 "default model from VIDI_MODEL_DIR" -- env VIDI_MODEL_DIR="$tmp/models" "$vidi" generate -q --steps 3 -o "$tmp/def.gif"
out_has "4 frames 8x8"
# The shipped one (samples/models in the source tree), VIDI_MODEL_DIR unset.
# With --label and no --guidance it uses the model's recommended scale (config "guidance",
# SHIPPED_GUIDANCE), which must change the frames; --guidance 1 turns it off; without a label, none.
SHIPPED_GUIDANCE=8
ship() { env -u VIDI_MODEL_DIR "$vidi" generate -q --steps 2 "$@"; }
expect 0 "shipped default model" -- ship --label "Moving something up" -o "$tmp/ship"
out_has "16 frames 32x32"; out_has "Moving something up"; out_has "guidance $SHIPPED_GUIDANCE, seed 0,"
expect 0 "shipped model, its guidance asked for" -- ship --label 2 --guidance "$SHIPPED_GUIDANCE" -o "$tmp/ship_g"
if diff -r "$tmp/ship" "$tmp/ship_g" >/dev/null; then ok; else bad "the recommended guidance is not what --guidance $SHIPPED_GUIDANCE gives"; fi
expect 0 "shipped model, --guidance 1" -- ship --label 2 --guidance 1 -o "$tmp/ship_1"; out_has "guidance 1, seed 0,"
if diff -r "$tmp/ship" "$tmp/ship_1" >/dev/null; then bad "--guidance 1 gave the guided frames"; else ok; fi
expect 0 "shipped model, no label: no guidance" -- ship --json -o "$tmp/ship_u"; out_has '"guidance": 1,'
expect 0 "test model without a recommendation: guidance 1" -- gen --label b --steps 2 -o "$tmp/norec.gif"; out_has "guidance 1, seed"
expect 0 "shipped default model, inpaint" -- env -u VIDI_MODEL_DIR "$vidi" inpaint -q --mask predict:8 --steps 2 "$V" -o "$tmp/ship2.gif"
expect 0 "inpaint with a label keeps guidance 1" -- env -u VIDI_MODEL_DIR "$vidi" inpaint -q --label 2 --mask predict:8 --steps 2 "$V" -o "$tmp/ship3.gif"
out_has "guidance 1, seed"
expect 1 "no default model" -- env VIDI_MODEL_DIR="$tmp/none" "$vidi" generate -q -o "$tmp/x.gif"
err_has "no default diffusion model"; err_has "$tmp/none"; err_one_line

# In-painting: each mask kind, both methods, reproducible.
ffmpeg -v error -f lavfi -i "color=black:s=8x8,drawbox=x=2:y=2:w=4:h=4:color=white:t=fill" -frames:v 1 "$tmp/mask.png"
ffmpeg -v error -f lavfi -i "color=black:s=8x8:r=4,drawbox=x=0:y=0:w=3:h=3:color=white:t=fill" -frames:v 4 -pix_fmt yuv420p "$tmp/mask.mp4"
for spec in "box:2,2,4,4" "box:0,0,8,4@1-2" "frames:1,3" "predict:2" "interpolate:1" "image:$tmp/mask.png" \
            "video:$tmp/mask.mp4" "box:0,0,2,2+frames:3"; do
  expect 0 "inpaint $spec" -- "$vidi" inpaint --model "$M" -q --steps 6 --mask "$spec" "$V" -o "$tmp/in.gif"
  out_has "inpainted"
done
expect 0 "inpaint repaint" -- "$vidi" inpaint --model "$M" -q --steps 6 --method repaint --resample 2 --mask predict:2 "$V" -o "$tmp/r1.mp4"
expect 0 "inpaint repaint again" -- "$vidi" inpaint --model "$M" -q --steps 6 --method repaint --resample 2 --mask predict:2 "$V" -o "$tmp/r2.mp4"
if cmp -s "$tmp/r1.mp4" "$tmp/r2.mp4"; then ok; else bad "inpaint: same seed gave different bytes"; fi
expect 0 "inpaint with label and guidance" -- "$vidi" inpaint --model "$M" -q --steps 6 --label e --guidance 3 --mask box:1,1,3,3 --start 3 "$V" -o "$tmp/lg.gif"
if [ "$(frames_of "$tmp/r1.mp4")" = "8,8,4" ]; then ok; else bad "inpaint output: $(frames_of "$tmp/r1.mp4")"; fi
# Known-pixel guidance: its own result, reproducible, in the summary.
kg() { "$vidi" inpaint --model "$M" -q --steps 6 --mask box:1,1,4,4 "$V" "$@"; }
kg -o "$tmp/kg1" >/dev/null
expect 0 "inpaint --known-guidance" -- kg --known-guidance 2 --json -o "$tmp/kg2"; out_has '"known_guidance": 2'
expect 0 "inpaint --known-guidance again" -- kg --known-guidance 2 -o "$tmp/kg3"; out_has "known-pixel guidance 2"
if diff -r "$tmp/kg2" "$tmp/kg3" >/dev/null; then ok; else bad "--known-guidance: same seed, different frames"; fi
if diff -r "$tmp/kg1" "$tmp/kg2" >/dev/null; then bad "--known-guidance 2 changed nothing"; else ok; fi
expect 2 "--known-guidance with repaint" -- kg --known-guidance 2 --method repaint -o "$tmp/x.gif"; err_has "conditioned"
expect 2 "--known-guidance with --guidance" -- kg --known-guidance 2 --label e --guidance 3 -o "$tmp/x.gif"
err_has "one of the two"
expect 2 "--known-guidance not a number" -- kg --known-guidance x -o "$tmp/x.gif"; err_has "--known-guidance"
expect 2 "generate has no --known-guidance" -- gen --known-guidance 2 -o "$tmp/x.gif"

# Bad input (issue 7): one line, non-zero exit, nothing written.
rm -f "$tmp/x.gif"
expect 1 "mask outside the frame" -- "$vidi" inpaint --model "$M" --mask box:6,6,4,4 "$V" -o "$tmp/x.gif"
err_has "outside the 8x8 frame"; err_one_line
expect 1 "frame outside the clip" -- "$vidi" inpaint --model "$M" --mask frames:4 "$V" -o "$tmp/x.gif"
err_has "outside the clip's 4 frames"; err_one_line
expect 1 "empty mask" -- "$vidi" inpaint --model "$M" --mask predict:4 "$V" -o "$tmp/x.gif"
err_has "no frame to fill"; err_one_line
expect 1 "empty mask image" -- "$vidi" inpaint --model "$M" --mask "image:tests/fixtures/video/zero_size.y4m" "$V" -o "$tmp/x.gif"
err_one_line
expect 1 "malformed mask" -- "$vidi" inpaint --model "$M" --mask circle:3 "$V" -o "$tmp/x.gif"
err_has "unknown kind 'circle'"; err_one_line
expect 1 "unknown label" -- gen --label "dancing" -o "$tmp/x.gif"
err_has "unknown label"; err_has "dancing"; err_one_line
expect 1 "label out of range" -- gen --label 5 -o "$tmp/x.gif"; err_has "unknown label"
expect 2 "0 steps" -- gen --steps 0 -o "$tmp/x.gif"; err_has "--steps 0"; err_one_line
expect 1 "more steps than the model has" -- "$vidi" generate --model "$P" --steps 201 -o "$tmp/x.gif"; err_has "1..200"
expect 1 "guidance without a conditional model" -- "$vidi" generate --model "$P" --guidance 3 -o "$tmp/x.gif"
err_has "unconditional"; err_one_line
expect 1 "guidance without a label" -- gen --guidance 3 -o "$tmp/x.gif"; err_has "needs --label"
expect 1 "label on an unconditional model" -- "$vidi" generate --model "$P" --label 0 -o "$tmp/x.gif"; err_has "no classes"
expect 1 "classifier passed as a diffusion model" -- "$vidi" generate --model tests/golden/vivit_fe/model.safetensors -o "$tmp/x.gif"
err_has "ViViT classifier"; err_one_line
expect 1 "ViT passed as a diffusion model" -- "$vidi" generate --model tests/golden/timm_vit/model.safetensors -o "$tmp/x.gif"
err_has "not a"; err_one_line
expect 1 "missing model" -- "$vidi" generate --model "$tmp/none.safetensors" -o "$tmp/x.gif"; err_has "none.safetensors"
expect 1 "video shorter than the clip" -- "$vidi" inpaint --model "$M" --mask predict:1 --start 14 "$V" -o "$tmp/x.gif"
err_has "needs 4 from frame 14"; err_one_line
expect 1 "unreadable video" -- "$vidi" inpaint --model "$M" --mask predict:1 tests/fixtures/video/garbage.mp4 -o "$tmp/x.gif"
err_has "garbage.mp4"; err_one_line
expect 1 "conditioned with a model without masks" -- "$vidi" inpaint --model "$P" --mask predict:1 "$V" -o "$tmp/x.gif"
err_has "repaint"
expect 1 "unknown output extension" -- gen -o "$tmp/x.txt"; err_has "unknown extension"
expect 2 "bad sampler" -- gen --sampler euler -o "$tmp/x.gif"; err_has "euler"; err_one_line
expect 2 "bad method" -- "$vidi" inpaint --model "$M" --mask predict:1 --method blur "$V" -o "$tmp/x.gif"; err_has "blur"
expect 2 "no mask" -- "$vidi" inpaint --model "$M" "$V" -o "$tmp/x.gif"; err_has "--mask"
expect 2 "no output" -- gen; err_has "-o OUT"
expect 2 "no input video" -- "$vidi" inpaint --model "$M" --mask predict:1 -o "$tmp/x.gif"; err_has "input video"
expect 2 "bad guidance" -- gen --guidance -1 -o "$tmp/x.gif"; err_has "--guidance"
for f in x.gif x.mp4 x.txt; do
  if [ -e "$tmp/$f" ]; then bad "a failed run left $f"; else ok; fi
done
if ls "$tmp"/*.tmp >/dev/null 2>&1; then bad "temporary files left: $(ls "$tmp"/*.tmp)"; else ok; fi

summary cli_diffusion
