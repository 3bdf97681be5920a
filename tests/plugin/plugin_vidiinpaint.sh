#!/usr/bin/env bash
# vidiinpaint end to end with gst-launch-1.0 and the tiny golden in-painting
# model (4 frames of 8x8): on 10 raw 16x12 frames (windows 0-3, 4-7 and an
# incomplete 8-9), only pixels inside the box, mapped back through the
# centre crop, change; the incomplete window and everything else pass
# unchanged; runs reproduce; bad settings fail with a message.
# $1: the build's plugins folder.
set -uo pipefail
export GST_PLUGIN_PATH="$1"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
M=tests/golden/diffusion/den_inpaint/model.safetensors
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

inspect=$(gst-inspect-1.0 vidi 2>&1)
check "gst-inspect lists vidiinpaint" 'grep -q "vidiinpaint:" <<<"$inspect"'
check "vidiinpaint properties have defaults" '[ "$(gst-inspect-1.0 vidiinpaint | grep -c "Default:")" -ge 8 ]'

src="videotestsrc pattern=smpte num-buffers=10 ! video/x-raw,format=RGB,width=16,height=12,framerate=10/1"
run() { timeout 60 gst-launch-1.0 -q $src ! "$@" 2>"$tmp/err"; }
run filesink location="$tmp/orig.rgb"
run vidiinpaint model="$M" mask=box:2,2,4,4 steps=4 ! filesink location="$tmp/a.rgb"
check "box: exit 0" '[ $? -eq 0 ] || { cat "$tmp/err"; false; }'
check "all 10 frames out" '[ "$(stat -c %s "$tmp/a.rgb")" -eq $((10 * 16 * 12 * 3)) ]'
# 16x12 -> shorter side 8: 10x8, centre crop 8x8 = original x 2..13, y 0..11 (scale 1.5);
# model box x,y 2..5 -> original x 5..10, y 3..8.
box_diff() { cmp -l "$tmp/orig.rgb" "$1" | awk '{o = $1 - 1; f = int(o / 576); p = int((o % 576) / 3);
  x = p % 16; y = int(p / 16); n++; if (f > 7 || x < 5 || x > 10 || y < 3 || y > 8) bad++}
  END {print n + 0, bad + 0}'; }
box_diff "$tmp/a.rgb" > "$tmp/diff"
check "pixels inside the box changed" '[ "$(cut -d" " -f1 "$tmp/diff")" -gt 0 ]'
check "nothing outside the box or in the incomplete window changed" '[ "$(cut -d" " -f2 "$tmp/diff")" -eq 0 ] || cat "$tmp/diff"'
run vidiinpaint model="$M" mask=box:2,2,4,4 steps=4 ! filesink location="$tmp/b.rgb"
check "same seed, same frames" 'cmp -s "$tmp/a.rgb" "$tmp/b.rgb"'
run vidiinpaint model="$M" mask=frames:1+box:0,0,2,2 method=repaint resample=2 steps=3 seed=9 label=c ! filesink location="$tmp/c.rgb"
check "repaint with frames and a box: exit 0" '[ $? -eq 0 ] || { cat "$tmp/err"; false; }'
check "repaint changed frame 1" '! cmp -s -i 576:576 -n 576 "$tmp/orig.rgb" "$tmp/c.rgb"'
run vidiinpaint model="$M" mask=box:2,2,4,4 steps=4 known-guidance=2.5 ! filesink location="$tmp/k.rgb"
check "known-guidance: exit 0" '[ $? -eq 0 ] || { cat "$tmp/err"; false; }'
check "known-guidance: other pixels than without it" '! cmp -s "$tmp/a.rgb" "$tmp/k.rgb"'
check "known-guidance: changes only inside the box" '[ "$(box_diff "$tmp/k.rgb" | cut -d" " -f2)" -eq 0 ]'

# A live source (docs/diffusion.md): a leaky queue in front keeps the source's
# thread free while a window samples, dropping frames the filter has no time for.
timeout 60 gst-launch-1.0 -q videotestsrc is-live=true num-buffers=12 ! video/x-raw,format=RGB,width=16,height=12,framerate=30/1 \
    ! queue leaky=downstream max-size-buffers=4 ! vidiinpaint model="$M" mask=box:2,2,4,4 steps=4 \
    ! filesink location="$tmp/live.rgb" 2>"$tmp/err"
check "live source through a leaky queue: exit 0, whole frames out" \
    '[ $? -eq 0 ] && s=$(stat -c %s "$tmp/live.rgb") && [ "$s" -gt 0 ] && [ $((s % 576)) -eq 0 ] || cat "$tmp/err"'

run vidiinpaint model="$M" ! fakesink; check "no mask fails" '[ $? -ne 0 ] && grep -q "mask spec is required" "$tmp/err"'
run vidiinpaint model="$M" mask=box:6,6,4,4 ! fakesink; check "mask outside the frame fails" '[ $? -ne 0 ] && grep -q "outside the 8x8 frame" "$tmp/err"'
run vidiinpaint model="$M" mask=predict:4 ! fakesink; check "empty mask fails" '[ $? -ne 0 ] && grep -q "no frame to fill" "$tmp/err"'
run vidiinpaint model="$M" mask=predict:1 method=blur ! fakesink; check "unknown method fails" '[ $? -ne 0 ] && grep -q "blur" "$tmp/err"'
run vidiinpaint model="$M" mask=predict:1 method=repaint known-guidance=2 ! fakesink
check "known-guidance with repaint fails" '[ $? -ne 0 ] && grep -q "known-guidance: needs method=conditioned" "$tmp/err"'
run vidiinpaint model="$M" mask=predict:1 label=zz ! fakesink; check "unknown label fails" '[ $? -ne 0 ] && grep -q "label .zz." "$tmp/err"'
run vidiinpaint model=tests/golden/diffusion/den_plain/model.safetensors mask=predict:1 ! fakesink
check "grey model fails" '[ $? -ne 0 ] && grep -q "channels" "$tmp/err"'
run vidiinpaint model=tests/golden/vivit_fe/model.safetensors mask=predict:1 ! fakesink
check "a classifier as the model fails" '[ $? -ne 0 ] && grep -q "ViViT classifier" "$tmp/err"'

exit $fail
