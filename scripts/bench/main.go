// Command bench is the Go side of scripts/bench.sh: each subcommand
// measures one thing side by side with its anchor, interleaving the two
// sides round by round, and prints one JSON object per line (the shell
// script gathers them into a table). It is not part of the daemon or CI;
// see BENCHMARKS.md.
//
//	go run ./scripts/bench journal -rounds 7 -n 300 -dir DIR
//	go run ./scripts/bench qrpng   -rounds 7 -node scripts/receipt-bench
//	go run ./scripts/bench receipt -rounds 7 -node scripts/receipt-bench
//	go run ./scripts/bench daemon  -bin ./posagent -n 300
//	go run ./scripts/bench growth  -bin ./posagent -sizes 1000,10000,100000
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench journal|qrpng|receipt|daemon|growth [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"journal": runJournal,
		"qrpng":   runQRPNG,
		"receipt": runReceipt,
		"daemon":  runDaemon,
		"growth":  runGrowth,
	}
	f, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: unknown subcommand %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := f(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// emit prints one result line.
func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// pct is the p-th percentile (0-100) of durations, nearest rank.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func minmax(xs []float64) [2]float64 {
	return [2]float64{slices.Min(xs), slices.Max(xs)}
}
