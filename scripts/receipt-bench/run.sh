#!/bin/sh
# Compares posagent's ESC/POS encoder with receiptline on the standard
# payment receipt (logo, bilingual text, QR code). Needs Go and Node; it is
# not part of CI. The aim is for ours to be at least 20x faster.
#
#   scripts/receipt-bench/run.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$here"
if [ ! -d node_modules/receiptline ]; then
	npm install --no-audit --no-fund --silent >/dev/null
fi
(cd "$root" && go run ./scripts/receipt-bench/logo "$work/logo.png")
theirs=$(node bench.mjs "$work/logo.png")
echo "$theirs"

ours=$(cd "$root" && go test -run '^$' -bench 'EncodePaymentReceipt$' -benchtime 2s -count 3 ./hw/printer/escpos |
	awk '/^BenchmarkEncodePaymentReceipt-/ { if (best == 0 || $3 < best) best = $3 } END { print best }')
echo "{\"tool\":\"posagent escpos\",\"ns_per_op\":$ours}"

awk -v t="$(echo "$theirs" | sed 's/.*"ns_per_op":\([0-9]*\).*/\1/')" -v o="$ours" 'BEGIN {
	r = t / o
	printf "posagent is %.1fx faster than receiptline (aim: 20x)\n", r
	exit (r >= 20 ? 0 : 1)
}'
