#!/usr/bin/env bash
# vidigen end to end with gst-launch-1.0 and the tiny golden diffusion model:
# one clip then EOS, loop with num-buffers, frames equal to `vidi generate`
# with the same options (decoded pixels), reproducible seeds, and errors that
# fail the pipeline with a message. $1: the build's plugins folder.
set -uo pipefail
export GST_PLUGIN_PATH="$1"
vidi="$(dirname "$1")/vidi"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
M=tests/golden/diffusion/den_inpaint/model.safetensors
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

inspect=$(gst-inspect-1.0 vidi 2>&1)
check "gst-inspect lists vidigen" 'grep -q "vidigen:" <<<"$inspect"'
check "vidigen properties have defaults" '[ "$(gst-inspect-1.0 vidigen | grep -c "Default:")" -ge 9 ]'

gen() { timeout 60 gst-launch-1.0 -q vidigen model="$M" "$@" 2>"$tmp/err"; }
mkdir -p "$tmp/a" "$tmp/b" "$tmp/c"
gen steps=6 label=b seed=4 ! videoconvert ! pngenc ! multifilesink location="$tmp/a/f%02d.png"
check "one clip: exit 0" '[ $? -eq 0 ] || { cat "$tmp/err"; false; }'
check "one clip: 4 frames then EOS" '[ "$(ls "$tmp/a" | wc -l)" -eq 4 ]'
gen steps=6 label=b seed=4 ! videoconvert ! pngenc ! multifilesink location="$tmp/b/f%02d.png"
check "same seed, same frames" 'cmp -s "$tmp/a/f03.png" "$tmp/b/f03.png"'
gen steps=6 label=b seed=5 ! videoconvert ! pngenc ! multifilesink location="$tmp/c/f%02d.png"
check "other seed, other frames" '! cmp -s "$tmp/a/f03.png" "$tmp/c/f03.png"'

# The same clip as `vidi generate` (the CLI and the element share the library path).
"$vidi" generate --model "$M" -q --steps 6 --label b --seed 4 -o "$tmp/cli" >/dev/null
for i in 0 3; do
  ffmpeg -v error -i "$tmp/a/f0$i.png" -f rawvideo -pix_fmt rgb24 "$tmp/el$i.rgb"
  ffmpeg -v error -i "$tmp/cli/frame_00000$i.png" -f rawvideo -pix_fmt rgb24 "$tmp/cli$i.rgb"
  check "frame $i equals vidi generate" 'cmp -s "$tmp/el$i.rgb" "$tmp/cli$i.rgb"'
done

# The shipped default model (samples/models/diffusion-synth.safetensors) when model is unset.
env -u VIDI_MODEL_DIR timeout 120 gst-launch-1.0 -q vidigen label="Moving something up" steps=2 \
    ! "video/x-raw,width=32,height=32" ! fakesink 2>"$tmp/err"
check "default model: 32x32 frames" '[ $? -eq 0 ] || { cat "$tmp/err"; false; }'
# guidance unset (-1): a labelled clip gets the model's recommended scale (config "guidance").
SHIPPED_GUIDANCE=8
ship() { env -u VIDI_MODEL_DIR timeout 120 gst-launch-1.0 -q vidigen label=2 steps=2 "$@" ! filesink location="$tmp/$1.rgb" 2>"$tmp/err"; }
ship guidance=-1; ship guidance="$SHIPPED_GUIDANCE"; ship guidance=1
env -u VIDI_MODEL_DIR timeout 120 gst-launch-1.0 -q vidigen label=2 steps=2 ! filesink location="$tmp/unset.rgb" 2>"$tmp/err"
check "guidance's default is the model's recommendation" 'cmp -s "$tmp/unset.rgb" "$tmp/guidance=$SHIPPED_GUIDANCE.rgb"'
check "guidance unset: the model's recommended scale" 'cmp -s "$tmp/guidance=-1.rgb" "$tmp/guidance=$SHIPPED_GUIDANCE.rgb"'
check "guidance unset: not guidance 1" '[ -s "$tmp/guidance=1.rgb" ] && ! cmp -s "$tmp/guidance=-1.rgb" "$tmp/guidance=1.rgb"'

gen steps=3 loop=true num-buffers=10 ! "video/x-raw,width=8,height=8,framerate=12/1" ! fakesink
check "loop: 10 buffers of 8x8 at 12 fps" '[ $? -eq 0 ] || { cat "$tmp/err"; false; }'
gen steps=3 sampler=dpm++ label=e guidance=2.5 fps=25 ! "video/x-raw,framerate=25/1" ! fakesink
check "dpm++ with guidance at 25 fps" '[ $? -eq 0 ] || { cat "$tmp/err"; false; }'

gen label=nope ! fakesink; check "unknown label fails" '[ $? -ne 0 ] && grep -q "label .nope.: unknown" "$tmp/err"'
gen guidance=3 ! fakesink; check "guidance without a label fails" '[ $? -ne 0 ] && grep -q "guidance 3 needs a label" "$tmp/err"'
gen sampler=euler ! fakesink; check "unknown sampler fails" '[ $? -ne 0 ] && grep -q "euler" "$tmp/err"'
timeout 60 gst-launch-1.0 -q vidigen model=tests/golden/vivit_fe/model.safetensors ! fakesink 2>"$tmp/err"
check "a classifier as the model fails" '[ $? -ne 0 ] && grep -q "ViViT classifier" "$tmp/err"'
timeout 60 gst-launch-1.0 -q vidigen model="$tmp/none.safetensors" ! fakesink 2>"$tmp/err"
check "missing model fails" '[ $? -ne 0 ] && grep -q "none.safetensors" "$tmp/err"'

exit $fail
