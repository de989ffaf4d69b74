#!/usr/bin/env bash
# The README's test command, wrapped: go vet, then every test.
# Extra arguments go to `go test` (e.g. -run, -v, -count=1).
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
# Four packages at a time, not GOMAXPROCS (two here): the slow packages
# (the daemon end to end, the truth checks, the fault matrix) spend their
# time waiting for simulated gateways' timeouts, not on the CPU (a full run
# used 0.4 of a core on average), so the suite takes half the time.
go test -p 4 -timeout 20m ./... "$@"
# Every fuzz target for a bounded time (RELIABILITY.md, "Fuzzing"); only
# for the full run, not when arguments narrow the tests.
if [ "$#" -eq 0 ]; then
  ./scripts/fuzz.sh
fi
