# Shared helpers for the CLI tests (tests/cli_*.sh). Source it after making
# the scratch directory, from the repo root:
#   tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
#   . tests/lib.sh
# Each check counts a pass or prints "FAIL: ..." to stderr; end the script
# with `summary NAME`, whose status is the script's.
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- command...   (stdout -> $tmp/out, stderr -> $tmp/err)
expect() {
  local code=$1 what=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$code" ]; then ok; else bad "$what: exit $got, expected $code; stderr: $(head -c 300 "$tmp/err")"; fi
}
err_has() { if grep -q -- "$1" "$tmp/err"; then ok; else bad "stderr lacks '$1': $(head -c 300 "$tmp/err")"; fi; }
err_lacks() { if grep -q -- "$1" "$tmp/err"; then bad "stderr has '$1': $(head -c 300 "$tmp/err")"; else ok; fi; }
err_one_line() { if [ "$(wc -l <"$tmp/err")" -eq 1 ]; then ok; else bad "stderr is not one line: $(cat "$tmp/err")"; fi; }
out_has() { if grep -q -- "$1" "$tmp/out"; then ok; else bad "stdout lacks '$1': $(head -c 300 "$tmp/out")"; fi; }
# out_lines N: stdout has exactly N lines.
out_lines() { local n; n=$(wc -l <"$tmp/out"); if [ "$n" -eq "$1" ]; then ok; else bad "stdout has $n lines, expected $1"; fi; }

summary() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
