#!/bin/sh
# crashtest.sh: run posagent's crash harness (cmd/posagent/crash_test.go)
# verbosely: every crash point with every magic amount, then the random
# SIGKILL test with more rounds. Each case runs the real binary against the
# embedded simulator on loopback; nothing else is needed.
#
#   scripts/crashtest.sh                 full matrix and 30 random rounds
#   ROUNDS=100 scripts/crashtest.sh      more random rounds
#   SEED=1234 ROUNDS=1 scripts/crashtest.sh   replay one failed random round
#   PARALLEL=4 scripts/crashtest.sh      fewer demos at once (default 8)
#
# A failed random round prints the seed that replays it.
set -eu
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-30}
parallel=${PARALLEL:-8}
export POSAGENT_CRASHTEST_FULL=1 POSAGENT_CRASHTEST_ROUNDS="$rounds"
if [ -n "${SEED:-}" ]; then
	export POSAGENT_CRASHTEST_SEED="$SEED"
fi
# The demos' own logs are printed only for failed cases.
exec go test ./cmd/posagent -run '^(TestCrashPoints|TestCrashRandomKill)$' \
	-count=1 -v -parallel "$parallel" -timeout 20m "$@"
