#!/usr/bin/env bash
# The README's test command, wrapped: go vet, then every test.
# Extra arguments go to `go test` (e.g. -run, -v, -count=1).
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
go test -timeout 20m ./... "$@"
# Every fuzz target for a bounded time (RELIABILITY.md, "Fuzzing"); only
# for the full run, not when arguments narrow the tests.
if [ "$#" -eq 0 ]; then
  ./scripts/fuzz.sh
fi
