package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", stderr)
	gw := fs.String("gateway", "mmsp", "gateway to simulate: "+simulatedNames())
	listen := fs.String("listen", "127.0.0.1:9001", "address to listen on (loopback)")
	state := fs.String("state", filepath.Join(os.TempDir(), "posagent-sim"), "directory for the simulator's ledger")
	notifyURL := fs.String("notify-url", "", "where to post payment notifications (default: the URL each order carries, where the wire has one)")
	qrPaidAfter := fs.Duration("qr-paid-after", DefaultQRPaidAfter, "how long the simulated customer takes to scan a merchant QR that gets paid")
	sameDayBills := fs.Bool("same-day-bills", false, "serve the bill of the acquirer's day still running (provisional: what moved so far), so a demo can reconcile today; acquirers serve a day's bill from the next day")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text (logfmt) or json (one object per line)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return usageError("%v", err)
	}
	if err := requireLoopback(*listen); err != nil {
		return usageError("%v", err)
	}
	if *qrPaidAfter < 0 {
		return usageError("--qr-paid-after %v is negative", *qrPaidAfter)
	}
	base, err := startSimulator(ctx, *gw, *listen, filepath.Join(*state, "sim-"+*gw), *notifyURL, *qrPaidAfter, *sameDayBills, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s simulator listening at %s (ledger in %s)\n", *gw, base, filepath.Join(*state, "sim-"+*gw))
	fmt.Fprintf(stdout, "Point a demo at it: posagent demo --gateway %s --sim-url %s\n", *gw, base)
	<-ctx.Done()
	return nil
}
