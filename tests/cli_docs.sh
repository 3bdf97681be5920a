#!/usr/bin/env bash
# Runs every "$ vidi ..." example line in docs/*.md and README.md with the
# built binary: documentation examples must keep working.
set -u
vidi="$1"
passed=0
failed=0
while IFS= read -r line; do
  cmd="${line#\$ vidi }"
  if out=$(eval "\"$vidi\" $cmd" 2>&1); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: vidi $cmd" >&2
    echo "$out" | tail -n 5 >&2
  fi
done < <(grep -h '^\$ vidi ' docs/*.md README.md)
echo "cli_docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
