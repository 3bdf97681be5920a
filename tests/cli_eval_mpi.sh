#!/usr/bin/env bash
# vidi eval under Open MPI: `mpirun -np 2` gives the same summary.json as
# -np 1 and as a plain single process; rank 0 merges the shards into one
# results.jsonl; a multi-rank run resumes with another rank count.
# Exit 77 (skipped, see tests/eval.cmake) when vidi was built without MPI
# (VIDI_MPI=OFF, or the sanitizer build) or mpirun is missing.
# Usage: tests/cli_eval_mpi.sh path/to/vidi   (run from the repo root)
set -u
vidi="$1"
if ! "$vidi" eval --help | grep -q "MPI scale-out enabled" || ! command -v mpirun >/dev/null; then
  echo "cli_eval_mpi: skipped (vidi built without MPI, or no mpirun)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
run() { # what, command...
  local what=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then ok; else bad "$what: exit $?; $(head -c 600 "$tmp/err")"; fi
}
same_summary() {
  if cmp -s "$1/summary.json" "$2/summary.json"; then ok; else bad "summaries differ: $1 vs $2: $(diff "$1/summary.json" "$2/summary.json" | head -5)"; fi
}
mpi=(mpirun --allow-run-as-root --oversubscribe)

"$vidi" synth --out "$tmp/ssv2" --clips 24 --size 64x48 --frames 12 --seed 5 >/dev/null 2>&1 || bad "synth"
python3 tests/eval_reference.py make-model tests/golden/vivit_fe/model.safetensors "$tmp/m.safetensors" 12 || bad "make-model"
n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$tmp/ssv2/train.json")
e=(eval --dataset ssv2 --annotations "$tmp/ssv2/train.json" --model "$tmp/m.safetensors" --views 2x1 -t 1 -q)

run "plain" "$vidi" "${e[@]}" -o "$tmp/p"
run "mpirun -np 1" "${mpi[@]}" -np 1 "$vidi" "${e[@]}" -o "$tmp/n1"
run "mpirun -np 2" "${mpi[@]}" -np 2 "$vidi" "${e[@]}" -o "$tmp/n2"
grep -q "(rank 0): $(((n + 1) / 2)) videos" "$tmp/out" && ok || bad "rank 0 did not take half the videos: $(cat "$tmp/out")"
same_summary "$tmp/p" "$tmp/n1"
same_summary "$tmp/p" "$tmp/n2"
if python3 tests/eval_reference.py check "$tmp/n2" --dataset ssv2 --annotations "$tmp/ssv2/train.json" >"$tmp/ref" 2>&1; then ok; else bad "reference: $(cat "$tmp/ref")"; fi
# The merged file is sorted by item index and the shard files are gone.
python3 - "$tmp/n2/results.jsonl" "$n" <<'PY' && ok || bad "merged results.jsonl not sorted / complete"
import json, sys
idx = [json.loads(l)["index"] for l in open(sys.argv[1])]
assert idx == list(range(int(sys.argv[2]))), idx
PY
ls "$tmp/n2" | grep -q "results.rank-" && bad "shard files left behind: $(ls "$tmp/n2")" || ok
# Three ranks: shards of 6.
run "mpirun -np 3" "${mpi[@]}" -np 3 "$vidi" "${e[@]}" -o "$tmp/n3"
same_summary "$tmp/p" "$tmp/n3"

# Resume across rank counts: 2 ranks stopped after 6 rows (--limit), the rest by 1.
"${mpi[@]}" -np 2 "$vidi" "${e[@]}" --limit 6 -o "$tmp/r1" >/dev/null 2>&1
[ "$(wc -l <"$tmp/r1/results.jsonl")" -eq 6 ] && ok || bad "2 ranks with --limit 6 did not give 6 records"
run "resume with 1 rank" "$vidi" "${e[@]}" -o "$tmp/r1" --resume
same_summary "$tmp/p" "$tmp/r1"
# A killed 2-rank run: shard files (one with a torn last line) and no merge.
mkdir -p "$tmp/r2"
cp "$tmp/p/run.json" "$tmp/r2/"
python3 - "$tmp/n2/results.jsonl" "$tmp/r2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for rank in (0, 1):
    mine = [l for l in lines if json.loads(l)["index"] % 2 == rank][:4]
    with open("%s/results.rank-%d-of-2.jsonl" % (sys.argv[2], rank), "w") as f:
        f.write("\n".join(mine[:3]) + "\n" + mine[3][:30])
PY
run "resume a killed 2-rank run with 2 ranks" "${mpi[@]}" -np 2 "$vidi" "${e[@]}" -o "$tmp/r2" --resume
same_summary "$tmp/p" "$tmp/r2"
ls "$tmp/r2" | grep -q "results.rank-" && bad "shard files left after resume: $(ls "$tmp/r2")" || ok

# A killed single-process run (results.jsonl with a torn last line) resumed by 2 ranks.
mkdir -p "$tmp/r3"
cp "$tmp/p/run.json" "$tmp/r3/"
{ head -n 5 "$tmp/p/results.jsonl"; sed -n 6p "$tmp/p/results.jsonl" | head -c 25; } >"$tmp/r3/results.jsonl"
run "resume a killed 1-rank run with 2 ranks" "${mpi[@]}" -np 2 "$vidi" "${e[@]}" -o "$tmp/r3" --resume
same_summary "$tmp/p" "$tmp/r3"

echo "cli_eval_mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
