#!/usr/bin/env bash
# End-to-end tests of `vidi synth`: both layouts' annotation files against the
# files on disk, every codec decoded by ffprobe to the right frame count and
# size, byte-identical reruns, and bad options.
# Usage: tests/cli_synth.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
. tests/lib.sh

# Hash of every file under a directory, by relative path.
tree_hash() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum | cut -c1-64); }

small=(--size 64x48 --frames 8 --fps 8)

# Help and usage errors: exit 2, one line naming the problem.
expect 0 "synth --help" -- "$vidi" synth --help; out_has "--layout"; out_has "kinetics"; out_has "--force"
expect 0 "vidi --help lists synth" -- "$vidi" --help; out_has "synth"
expect 2 "no --out" -- "$vidi" synth --clips 2; err_has "--out is required"; err_one_line
expect 2 "unknown codec" -- "$vidi" synth --out "$tmp/x" --codec theora; err_has "theora"; err_one_line
expect 2 "size 0x0" -- "$vidi" synth --out "$tmp/x" --size 0x0; err_has "0x0"; err_one_line
expect 2 "enormous size" -- "$vidi" synth --out "$tmp/x" --size 100000x100000; err_has "100000x100000"; err_one_line
expect 2 "odd size" -- "$vidi" synth --out "$tmp/x" --size 65x48; err_has "even"
expect 2 "malformed size" -- "$vidi" synth --out "$tmp/x" --size big; err_has "WIDTHxHEIGHT"
expect 2 "clips 0" -- "$vidi" synth --out "$tmp/x" --clips 0; err_has "--clips"; err_one_line
expect 2 "bad seed" -- "$vidi" synth --out "$tmp/x" --seed -3; err_has "--seed"
expect 2 "bad layout" -- "$vidi" synth --out "$tmp/x" --layout ucf101; err_has "ucf101"
expect 2 "too few frames" -- "$vidi" synth --out "$tmp/x" --frames 2; err_has "--frames"
expect 2 "unknown option" -- "$vidi" synth --out "$tmp/x" --bogus; err_has "unknown option '--bogus'"
if [ ! -e "$tmp/x" ]; then ok; else bad "a usage error created the output directory"; fi

# Runtime errors: exit 1, one line naming the directory.
expect 1 "unwritable out dir" -- "$vidi" synth --out /proc/vidi-synth-test --clips 1 "${small[@]}"
err_has "/proc/vidi-synth-test"; err_one_line
mkdir -p "$tmp/full" && touch "$tmp/full/keep"
expect 1 "non-empty out dir" -- "$vidi" synth --out "$tmp/full" --clips 1 "${small[@]}"
err_has "$tmp/full"; err_has "--force"; err_one_line

# ssv2 layout (vp9 .webm by default), JSON summary.
expect 0 "ssv2 run" -- "$vidi" synth --out "$tmp/ssv2" --clips 14 --seed 7 "${small[@]}" --json
python3 - "$tmp/out" "$tmp/ssv2" <<'PY' && ok || bad "ssv2 layout inconsistent"
import json, os, sys
summary = json.load(open(sys.argv[1]))
root = sys.argv[2]
assert summary["clips"] == 14 and summary["codec"] == "vp9" and summary["layout"] == "ssv2", summary
labels = json.load(open(os.path.join(root, "labels.json")))
assert len(labels) == 12 and sorted(int(v) for v in labels.values()) == list(range(12)), labels
assert labels["Moving something from left to right"] == "0" and labels["Moving something back and forth"] == "11"
entries = []
for split in ("train", "validation"):
    rows = json.load(open(os.path.join(root, split + ".json")))
    assert len(rows) == summary[split], (split, len(rows), summary)
    entries += rows
ids = [e["id"] for e in entries]
assert len(set(ids)) == 14 and all(isinstance(i, str) and i.isdigit() for i in ids)
for e in entries:
    assert set(e) == {"id", "label", "template", "placeholders"}, e
    key = e["template"].replace("[", "").replace("]", "")
    assert key in labels, e
    thing = e["placeholders"][0]
    want = e["template"].replace("[something]", thing).replace("[Something]", thing)
    assert e["label"] == want[0].lower() + want[1:], e
files = sorted(f for f in os.listdir(root) if not f.endswith(".json"))
assert files == sorted(i + ".webm" for i in ids), files
# poses.json: the foreground's pose at every frame, moving the way the class says.
poses = json.load(open(os.path.join(root, "poses.json")))
assert (poses["width"], poses["height"], poses["frames"]) == (64, 48, 8), poses.keys()
assert sorted(poses["poses"]) == sorted(ids)
cls = {e["id"]: int(labels[e["template"].replace("[", "").replace("]", "")]) for e in entries}
change = {0: (0, 1), 1: (0, -1), 2: (1, -1), 3: (1, 1), 4: (3, 1), 5: (3, -1), 6: (2, 1), 7: (2, -1)}
for i, track in poses["poses"].items():
    assert len(track) == 8 and all(len(p) == 5 for p in track), i
    assert all(0 <= p[4] <= 1 and p[2] >= 0 for p in track), i
    if cls[i] in change:
        col, sign = change[cls[i]]
        assert (track[-1][col] - track[0][col]) * sign > 0, (i, cls[i], track)
PY
ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames \
  -of csv=p=0 "$tmp/ssv2/1.webm" >"$tmp/probe" 2>&1
if [ "$(cat "$tmp/probe")" = "vp9,64,48,8" ]; then ok; else bad "ffprobe 1.webm: $(cat "$tmp/probe")"; fi

# Byte-identical reruns: into a fresh directory, and over the first with --force.
expect 0 "ssv2 rerun" -- "$vidi" synth --out "$tmp/ssv2b" --clips 14 --seed 7 "${small[@]}"
out_has "14 clips"
if [ "$(tree_hash "$tmp/ssv2")" = "$(tree_hash "$tmp/ssv2b")" ]; then ok; else bad "two runs differ"; fi
expect 0 "ssv2 --force" -- "$vidi" synth --out "$tmp/ssv2b" --clips 14 --seed 7 "${small[@]}" --force
if [ "$(tree_hash "$tmp/ssv2")" = "$(tree_hash "$tmp/ssv2b")" ]; then ok; else bad "--force run differs"; fi
expect 0 "other seed" -- "$vidi" synth --out "$tmp/ssv2c" --clips 14 --seed 8 "${small[@]}"
if [ "$(tree_hash "$tmp/ssv2")" != "$(tree_hash "$tmp/ssv2c")" ]; then ok; else bad "seeds 7 and 8 gave the same files"; fi

# An interrupted run never looks complete: a stale labels.json goes first,
# and a clip that cannot be written stops the run before any annotation.
mkdir -p "$tmp/broken/2.webm.tmp" && echo '{}' >"$tmp/broken/labels.json"
expect 1 "clip write failure" -- "$vidi" synth --out "$tmp/broken" --clips 3 "${small[@]}" --force
err_has "2.webm"
# Progress lines come first on a pipe; the error itself is one line.
if [ "$(grep -c '^vidi synth:' "$tmp/err")" -eq 1 ]; then ok; else bad "error is not one line: $(cat "$tmp/err")"; fi
if [ ! -e "$tmp/broken/labels.json" ] && [ ! -e "$tmp/broken/train.json" ]; then ok; else bad "annotations left after a failed run"; fi

# kinetics layout (h264 .mp4 by default).
expect 0 "kinetics run" -- "$vidi" synth --out "$tmp/kin" --layout kinetics --clips 13 --seed 3 "${small[@]}" --json
python3 - "$tmp/out" "$tmp/kin" <<'PY' && ok || bad "kinetics layout inconsistent"
import csv, json, os, re, sys
summary = json.load(open(sys.argv[1]))
root = sys.argv[2]
assert summary["codec"] == "h264" and summary["layout"] == "kinetics", summary
on_disk = set()
for dirpath, _, names in os.walk(root):
    for n in names:
        if n.endswith(".mp4"):
            on_disk.add(os.path.relpath(os.path.join(dirpath, n), root))
listed = set()
for split in ("train", "val"):
    text = open(os.path.join(root, split + ".csv")).read()
    assert text.splitlines()[0] == "label,youtube_id,time_start,time_end,split", text[:80]
    rows = list(csv.DictReader(text.splitlines()))
    for r in rows:
        assert r["split"] == split, r
        assert re.fullmatch(r"[A-Za-z0-9_-]{11}", r["youtube_id"]), r
        s, e = int(r["time_start"]), int(r["time_end"])
        assert 0 <= s < e, r
        assert r["label"] == r["label"].lower(), r
        listed.add(f'{split}/{r["label"]}/{r["youtube_id"]}_{s:06d}_{e:06d}.mp4')
assert len(listed) == 13 and listed == on_disk, (sorted(listed ^ on_disk))
assert summary["train"] + summary["validation"] == 13
PY
first=$(find "$tmp/kin" -name '*.mp4' | LC_ALL=C sort | head -n1)
ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames \
  -of csv=p=0 "$first" >"$tmp/probe" 2>&1
if [ "$(cat "$tmp/probe")" = "h264,64,48,8" ]; then ok; else bad "ffprobe $first: $(cat "$tmp/probe")"; fi

# mjpeg in .avi, and h264 in the ssv2 layout.
expect 0 "mjpeg run" -- "$vidi" synth --out "$tmp/mjpeg" --codec mjpeg --clips 2 --size 96x64 --frames 9 --fps 9
ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames \
  -of csv=p=0 "$tmp/mjpeg/2.avi" >"$tmp/probe" 2>&1
if [ "$(cat "$tmp/probe")" = "mjpeg,96,64,9" ]; then ok; else bad "ffprobe 2.avi: $(cat "$tmp/probe")"; fi
expect 0 "ssv2 h264 run" -- "$vidi" synth --out "$tmp/h264" --codec h264 --clips 1 "${small[@]}"
if [ -f "$tmp/h264/1.mp4" ] && [ -z "$(find "$tmp/ssv2" "$tmp/kin" "$tmp/mjpeg" "$tmp/h264" -name '*.tmp')" ]; then ok; else bad "h264 clip missing or .tmp left"; fi

# The committed samples (tools/make_sample_clips.sh) decode as documented.
for clip in samples/clips/ssv2-vp9/1.webm samples/clips/ssv2-mjpeg/1.avi \
            "$(find samples/clips/kinetics-h264 -name '*.mp4' | LC_ALL=C sort | head -n1)"; do
  ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=width,height,nb_read_frames \
    -of csv=p=0 "$clip" >"$tmp/probe" 2>&1
  if [ "$(cat "$tmp/probe")" = "160,120,16" ]; then ok; else bad "sample $clip: $(cat "$tmp/probe")"; fi
done
for f in ssv2-vp9/labels.json ssv2-vp9/train.json ssv2-vp9/validation.json kinetics-h264/train.csv kinetics-h264/val.csv; do
  if [ -s "samples/clips/$f" ]; then ok; else bad "samples/clips/$f missing"; fi
done

summary cli_synth
