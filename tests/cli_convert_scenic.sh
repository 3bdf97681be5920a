#!/usr/bin/env bash
# tools/convert_scenic.py on the committed Scenic-layout Flax checkpoint
# (tests/golden/vivit_scenic/checkpoint_0.msgpack, written by
# tools/oracle/gen_vivit_golden.py) reproduces the committed vidi file byte
# for byte; test_vivit_golden checks that file against the PyTorch reference.
# Bad inputs fail with a one-line message. Needs python3 + numpy only (the
# converter decodes msgpack itself); skipped with a message without them.
set -u
if ! python3 -c "import numpy" 2>/dev/null; then
    echo "SKIP: python3 with numpy is not available"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
dir=tests/golden/vivit_scenic
python3 tools/convert_scenic.py "$dir/checkpoint_0.msgpack" -o "$tmp/model.safetensors" >/dev/null || fail=1
cmp -s "$tmp/model.safetensors" "$dir/model.safetensors" || { echo "FAIL: converter output differs from $dir/model.safetensors"; fail=1; }

# A truncated checkpoint and a non-Scenic file: non-zero exit, a message.
head -c 1000 "$dir/checkpoint_0.msgpack" > "$tmp/trunc.msgpack"
if python3 tools/convert_scenic.py "$tmp/trunc.msgpack" -o "$tmp/x.safetensors" 2>"$tmp/err"; then
    echo "FAIL: truncated checkpoint accepted"; fail=1
fi
grep -q "truncated" "$tmp/err" || { echo "FAIL: no 'truncated' in: $(tail -1 "$tmp/err")"; fail=1; }
printf '\x81\xa3abc\x01' > "$tmp/other.msgpack"   # {"abc": 1}
if python3 tools/convert_scenic.py "$tmp/other.msgpack" -o "$tmp/x.safetensors" 2>"$tmp/err"; then
    echo "FAIL: non-ViViT tree accepted"; fail=1
fi
grep -q "no Scenic ViViT params" "$tmp/err" || { echo "FAIL: message: $(cat "$tmp/err")"; fail=1; }
[ $fail = 0 ] && echo "cli_convert_scenic: ok"
exit $fail
