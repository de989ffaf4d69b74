#!/usr/bin/env bash
# Runs the module's fuzz targets, each for a bounded time.
#   scripts/fuzz.sh                   as CI: FUZZ_TIME (2s) each, within FUZZ_BUDGET (180 s)
#   scripts/fuzz.sh -t 10m ./configs  longer, on some packages, no budget
#   FUZZ_BUDGET=0 scripts/fuzz.sh     every target, however long it takes
# Starting a fuzz run costs a few seconds of its own on a loaded two-core
# machine (build check, the worker's TestMain, the seed corpus under
# coverage), about as much as the 2 s of fuzzing; when the budget runs out
# before the last target, the rest are listed as skipped. The run starts
# at a different target on every commit (the commit hash picks the first),
# so a skipped target is first in line soon; every target's seeds run in
# every `go test` anyway.
# A crasher is written to the package's testdata/fuzz/<Target>/ (commit it:
# it then runs as a seed in every `go test`) and the script exits 1.
# Minimizing is bounded too (FUZZ_MINIMIZE_TIME, default 2s): the fuzzer
# counts no executions while it minimizes, up to 60 s per new input by
# default, which is what stalled configs' FuzzParse at 0 execs/s.
set -euo pipefail
cd "$(dirname "$0")/.."
per="${FUZZ_TIME:-2s}"
budget="${FUZZ_BUDGET:-180}"
if [ "${1:-}" = "-t" ]; then per="$2"; budget=0; shift 2; fi
minimize="${FUZZ_MINIMIZE_TIME:-2s}"
pkgs=("$@")
[ "${#pkgs[@]}" -gt 0 ] || pkgs=(./...)

# The targets are read from the test sources (func FuzzX(f *testing.F)):
# `go test -list` would link every package's test binary first, over a
# minute on a loaded machine.
targets=()
while read -r dir; do
  # The module's root package is "." (its directory is $PWD itself, which
  # the "$PWD/" prefix below would not strip).
  rel=.
  [ "$dir" = "$PWD" ] || rel="./${dir#"$PWD"/}"
  while read -r target; do
    targets+=("$rel $target")
  done < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$dir"/*_test.go 2>/dev/null | sort -u)
done < <(go list -f '{{.Dir}}' "${pkgs[@]}")
n=${#targets[@]}
[ "$n" -gt 0 ] || { echo "no fuzz targets"; exit 0; }
first=0
if [ "$budget" -gt 0 ] && rev=$(git rev-parse --short=6 HEAD 2>/dev/null); then
  first=$(( 16#$rev % n ))
fi

fail=0
ran=0
start=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for ((i = 0; i < n; i++)); do
  read -r pkg target <<<"${targets[$(( (first + i) % n ))]}"
  if [ "$budget" -gt 0 ] && [ $((SECONDS - start)) -ge "$budget" ]; then
    echo "skip $pkg $target (budget of ${budget} s spent)"
    continue
  fi
  if go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$per" -fuzzminimizetime "$minimize" -parallel 1 >"$log" 2>&1; then
    echo "ok   $pkg $target ($(grep -o 'execs: [0-9]*' "$log" | tail -1))"
  else
    echo "FAIL $pkg $target"
    cat "$log"
    fail=1
  fi
  ran=$((ran + 1))
done
echo "fuzzed $ran of $n targets for $per each in $((SECONDS - start)) s"
exit "$fail"
