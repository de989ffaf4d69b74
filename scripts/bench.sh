#!/bin/sh
# Measures posagent side by side with its anchors on this machine, in one
# run, and prints the ratios (BENCHMARKS.md holds the latest figures and
# says how to read them). Each comparison interleaves its two sides round by
# round and reports the median of the rounds, so load from other processes
# falls on both sides alike. Needs Go, Node and npm (the peers are installed
# into scripts/receipt-bench/node_modules, which git ignores); no network but
# the npm registry for that install and loopback.
#
#   scripts/bench.sh [--quick] [--out FILE]
#
# --quick runs fewer rounds and smaller sizes (a minute or two; for trying
# the script); the default takes about 15 minutes. FILE gets every result
# as one JSON object per line (default: bench-results.jsonl in the work
# directory, printed at the end).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0
out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--out) out="$2"; shift ;;
	*) echo "usage: $0 [--quick] [--out FILE]" >&2; exit 2 ;;
	esac
	shift
done
work=$(mktemp -d "${TMPDIR:-/tmp}/posagent-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -n "$out" ] || out="$work/bench-results.jsonl"
: >"$out"

if [ "$quick" = 1 ]; then
	rounds=3 jn=200 qn=50 rn=200 scans=50 pays=1000 idle=10s sizes=1000,10000 grounds=5 starts=3
else
	rounds=7 jn=300 qn=200 rn=1000 scans=300 pays=1000 idle=60s sizes=1000,10000,100000 grounds=20 starts=7
fi

note() { printf '%s\n' "$*" >&2; }
machine() {
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
	mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
	disk=$(df -P "$work" | awk 'NR==2 {print $1}')
	jq -cn --arg cpu "$cpu" --arg cores "$(nproc)" --arg mem "$mem" --arg kernel "$(uname -r)" \
		--arg go "$(go version | cut -d' ' -f3)" --arg node "$(node --version)" --arg disk "$disk" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$(git -C "$root" rev-parse --short HEAD)" \
		'{bench:"machine", cpu:$cpu, cores:($cores|tonumber), mem:$mem, kernel:$kernel, go:$go, node:$node, disk:$disk, loadavg:$load, at:$at, commit:$commit}'
}
failed=""
run() { # NAME CMD...: runs one measurement, keeps its JSON lines
	name=$1
	note "== $name"
	shift
	if "$@" >"$work/last.jsonl"; then
		tee -a "$out" <"$work/last.jsonl"
	else
		note "FAILED: $name"
		failed="$failed $name"
	fi
}

cd "$root"
machine | tee -a "$out"
note "== building"
go build -o "$work/posagent" ./cmd/posagent
go build -trimpath -ldflags='-s -w' -o "$work/posagent-small" ./cmd/posagent
go build -o "$work/bench" ./scripts/bench
go run ./scripts/receipt-bench/logo "$work/logo.png"
jq -cn --arg full "$(stat -c %s "$work/posagent")" --arg small "$(stat -c %s "$work/posagent-small")" \
	'{bench:"binary", bytes:($full|tonumber), stripped_bytes:($small|tonumber), mb:(($full|tonumber)/1048576), stripped_mb:(($small|tonumber)/1048576)}' | tee -a "$out"
if [ ! -d scripts/receipt-bench/node_modules/receiptline ] || [ ! -d scripts/receipt-bench/node_modules/qrcode ] ||
	[ ! -d scripts/receipt-bench/node_modules/@point-of-sale/receipt-printer-encoder ]; then
	note "== installing the npm peers (scripts/receipt-bench)"
	(cd scripts/receipt-bench && npm install --no-audit --no-fund --silent >/dev/null)
fi

run journal "$work/bench" journal -rounds "$rounds" -n "$jn" -dir "$work"
run qrpng "$work/bench" qrpng -rounds "$rounds" -n "$qn" -node scripts/receipt-bench
run receipt "$work/bench" receipt -rounds "$rounds" -n "$rn" -node scripts/receipt-bench -logo "$work/logo.png"
# The project's own benchmarks that must stay flat in their size.
note "== go benchmarks (flat in N)"
for n in 200 1000; do
	go test -run '^$' -bench '^BenchmarkMicropay$' -benchtime "${n}x" ./flows |
		awk -v n="$n" '/^BenchmarkMicropay/ {printf "{\"bench\":\"micropay\",\"iterations\":%d,\"ms_per_op\":%.3f}\n", n, $3/1e6}' | tee -a "$out"
done
go test -run '^$' -bench '^BenchmarkLedgerNewOrder$' -benchtime 500x -count 5 ./gateways/sim |
	awk '/^BenchmarkLedgerNewOrder/ {split($1, a, "="); sub(/-[0-9]+$/, "", a[2]); v[a[2]] = v[a[2]] " " $3}
	END { for (k in v) { n = split(v[k], x, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
		printf "{\"bench\":\"ledger_new_order\",\"orders\":%d,\"us_per_op\":%.1f,\"runs\":%d}\n", k, x[int((n + 1) / 2)] / 1e3, n } }' | sort | tee -a "$out"
run daemon "$work/bench" daemon -bin "$work/posagent" -scans "$scans" -pays "$pays" -idle "$idle" -starts "$starts" -dir "$work/daemon"
run growth "$work/bench" growth -bin "$work/posagent" -sizes "$sizes" -rounds "$grounds" -starts "$starts"
machine | jq -c '{bench:"machine_end", loadavg, at}' | tee -a "$out"

note ""
note "== summary (ratio: the median of per-round ratios; see BENCHMARKS.md)"
jq -r -s '
  def r(x): (x * 100 | round) / 100;
  (.[] | select(.bench=="machine") | "machine: \(.cpu), \(.cores) cores, \(.mem), \(.disk), \(.go), node \(.node), load \(.loadavg) at \(.at) (commit \(.commit))"),
  (.[] | select(.bench=="journal") | "journal: \(r(.journal_per_s))/s vs bare INSERT+COMMIT \(r(.bare_per_s))/s = \(r(.ratio_vs_bare))x (aim >= 0.9); vs raw write+fsync \(r(.raw_fsync_per_s))/s = \(r(.ratio_vs_raw))x"),
  (.[] | select(.bench=="qrpng") | "display QR PNG 370px: \(r(.posagent_us)) us vs node qrcode \(r(.node_qrcode_us)) us = \(r(.speedup))x faster (aim >= 5)"),
  (.[] | select(.bench=="receipt") | "receipt, raster QR vs receiptline: \(r(.speedup_vs_receiptline_raster))x per receipt, \(r(.speedup_per_payment_vs_receiptline))x per payment (2 copies, QR encoded once) (aim >= 20); native QR vs receipt-printer-encoder: \(r(.speedup_vs_rpe_native))x"),
  (.[] | select(.bench=="micropay") | "BenchmarkMicropay \(.iterations)x: \(.ms_per_op) ms/op"),
  (.[] | select(.bench=="ledger_new_order") | "BenchmarkLedgerNewOrder orders=\(.orders): \(.us_per_op) us/op (median of \(.runs))"),
  (.[] | select(.bench=="binary") | "binary: \(r(.mb)) MB (stripped \(r(.stripped_mb)) MB)"),
  (.[] | select(.bench=="daemon") | "daemon: start to API ready \(r(.start_ms)) ms; RSS idle \(r(.rss_idle_mb)) MB, after \(.payments_total) payments \(r(.rss_after_mb)) MB (aim <= 25; anonymous \(r(.rss_after_anon_mb)) MB, the binary and other files \(r(.rss_after_file_mb)) MB); idle CPU \(r(.idle_cpu_pct * 1000) / 1000)% over \(.idle_s) s (aim <= 0.1); CPU per payment \(r(.cpu_ms_per_payment)) ms; scan-to-wire p50 \(r(.s2w_p50_ms)) ms p99 \(r(.s2w_p99_ms)) ms, a journal commit p50 \(r(.commit_p50_ms)) p99 \(r(.commit_p99_ms)) ms: beyond it p50 \(r(.s2w_p50_beyond_commit_ms)) p99 \(r(.s2w_p99_beyond_commit_ms)) ms (aim p99 <= 1)"),
  (.[] | select(.bench=="growth") | "growth \(.payments) payments (\(r(.journal_mb)) MB): start \(r(.start_ms)) ms, list \(r(.list_ms)) ms, summary \(r(.summary_ms)) ms")
' "$out"
note "results: $out"
if [ "$out" = "$work/bench-results.jsonl" ]; then cat "$out" >"${TMPDIR:-/tmp}/posagent-bench-results.jsonl"; note "(copied to ${TMPDIR:-/tmp}/posagent-bench-results.jsonl)"; fi
if [ -n "$failed" ]; then
	note "failed:$failed"
	exit 1
fi
