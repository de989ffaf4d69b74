#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded time each.
#   scripts/fuzz.sh                 every target, FUZZ_TIME (default 2s) each
#   scripts/fuzz.sh -t 10m ./configs  longer, on some packages
# A crasher is written to the package's testdata/fuzz/<Target>/ (commit it:
# it then runs as a seed in every `go test`) and the script exits 1.
# Minimizing is bounded too (FUZZ_MINIMIZE_TIME, default 2s): the fuzzer
# counts no executions while it minimizes, up to 60 s per new input by
# default, which is what stalled configs' FuzzParse at 0 execs/s.
set -euo pipefail
cd "$(dirname "$0")/.."
per="${FUZZ_TIME:-2s}"
if [ "${1:-}" = "-t" ]; then per="$2"; shift 2; fi
minimize="${FUZZ_MINIMIZE_TIME:-2s}"
pkgs=("$@")
[ "${#pkgs[@]}" -gt 0 ] || pkgs=(./...)
fail=0
start=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list "${pkgs[@]}"); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    if go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$per" -fuzzminimizetime "$minimize" >"$log" 2>&1; then
      echo "ok   $pkg $target ($(grep -o 'execs: [0-9]*' "$log" | tail -1))"
    else
      echo "FAIL $pkg $target"
      cat "$log"
      fail=1
    fi
  done
done
echo "fuzzing took $((SECONDS - start)) s"
exit "$fail"
