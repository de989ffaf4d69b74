#!/bin/sh
# Compares posagent's ESC/POS encoder with receiptline (raster QR against
# raster QR: receiptline always draws the QR itself) and with
# @point-of-sale/receipt-printer-encoder (native GS ( k QR against native) on
# the standard payment receipt. The whole set of comparisons is
# scripts/bench.sh; this is its receipt part alone. Not part of CI.
#
#   scripts/receipt-bench/run.sh [ROUNDS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$here"
if [ ! -d node_modules/receiptline ] || [ ! -d node_modules/@point-of-sale/receipt-printer-encoder ]; then
	npm install --no-audit --no-fund --silent >/dev/null
fi
cd "$root"
go run ./scripts/receipt-bench/logo "$work/logo.png"
go run ./scripts/bench receipt -rounds "${1:-5}" -node scripts/receipt-bench -logo "$work/logo.png"
