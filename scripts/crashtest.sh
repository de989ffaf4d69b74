#!/bin/sh
# crashtest.sh: run posagent's crash campaign (cmd/posagent/crash_campaign_test.go)
# and print its summary. Each kill point starts the real binary (`posagent
# demo`, with its embedded simulator on loopback), fires a burst of
# micropays and merchant QR orders through the API, micropays on the
# pseudo-terminal scanner and refunds at it, and SIGKILLs it at a random
# crash point or moment; each chain of kills then restarts, settles and is
# checked against the simulator's ledger. Nothing else is needed.
#
#   scripts/crashtest.sh                     100 kill points, a new seed
#   scripts/crashtest.sh --points 1000       a thousand
#   scripts/crashtest.sh --seed 1234 --points 10 --chain 10
#                                            replay one failed chain (the
#                                            failure prints this line)
#   scripts/crashtest.sh --matrix            also every named crash point
#                                            with every magic amount and
#                                            refund (cmd/posagent/crash_test.go)
#   scripts/crashtest.sh --parallel 4        fewer demos at once (default 8)
#
# The seed is printed first; the summary (kills per crash point,
# operations per kind, how payments and refunds ended, the chains that
# disagreed with the ledger) last. Exit status is go test's.
set -eu
cd "$(dirname "$0")/.."
points=100 seed='' chain=10 parallel=8 matrix=''
while [ $# -gt 0 ]; do
	case $1 in
	--points) points=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--chain) chain=$2; shift 2 ;;
	--parallel) parallel=$2; shift 2 ;;
	--matrix) matrix=1; shift ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	*) echo "crashtest.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
case $points$chain$parallel in *[!0-9]*) echo "crashtest.sh: --points, --chain and --parallel take whole numbers" >&2; exit 2 ;; esac
if [ -z "$seed" ]; then
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
case $seed in '' | *[!0-9]*) echo "crashtest.sh: --seed takes a whole number" >&2; exit 2 ;; esac
echo "crash campaign: seed $seed, $points kill points (replay: scripts/crashtest.sh --seed $seed --points $points --chain $chain)"
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
run='^TestCrashRandomKill$'
if [ -n "$matrix" ]; then
	run='^(TestCrashPoints|TestCrashRandomKill)$'
	export POSAGENT_CRASHTEST_FULL=1
fi
export POSAGENT_CRASHTEST_POINTS="$points" POSAGENT_CRASHTEST_CHAIN="$chain" \
	POSAGENT_CRASHTEST_SEED="$seed" POSAGENT_CRASHTEST_SUMMARY="$summary"
# A kill point takes a few seconds; allow a minute per point per demo slot.
timeout=$(( points * 60 / parallel + 600 ))s
status=0
start=$(date +%s)
# The demos' own logs are printed only for failed chains.
POSAGENT_CRASHTEST_PARALLEL="$parallel" go test ./cmd/posagent -run "$run" -count=1 -v -parallel "$parallel" -timeout "$timeout" || status=$?
echo
cat "$summary" 2>/dev/null || echo "no summary: the campaign did not finish"
echo "took $(( $(date +%s) - start )) s; go test exit status $status"
exit "$status"
