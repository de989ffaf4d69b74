package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/internal/systemd"
	"github.com/posagent/posagent/store"
)

// supervise tells systemd (Type=notify) that the daemon is ready, keeps its
// watchdog fed while the payment loop and the journal make progress, and
// says when it is stopping. Outside systemd it does nothing. It returns a
// function to call when shutdown begins.
func supervise(ctx context.Context, runner *flows.Runner, journal store.Journal, log *slog.Logger) (stopping func()) {
	n := systemd.FromEnv()
	if n == nil {
		return func() {}
	}
	status := func(ctx context.Context) (string, error) {
		// The loop must come round (it reads the outbox), and a read of
		// the journal must answer.
		if err := runner.Alive(ctx); err != nil {
			return "", fmt.Errorf("payment loop did not come round: %w", err)
		}
		pending, err := journal.Pending(ctx)
		if err != nil {
			return "", fmt.Errorf("journal: %w", err)
		}
		ops, err := journal.DueOps(ctx, time.Now().Add(100*365*24*time.Hour))
		if err != nil {
			return "", fmt.Errorf("journal: %w", err)
		}
		return fmt.Sprintf("%d payment(s) pending, %d outbox operation(s)", len(pending), len(ops)), nil
	}
	first, err := status(ctx)
	if err != nil {
		first = "starting: " + err.Error()
	}
	if err := n.Send("READY=1", "STATUS="+first); err != nil {
		log.Warn("telling systemd we are ready failed", "err", err)
	}
	if timeout, ok := systemd.WatchdogInterval(); ok {
		go systemd.Watchdog(ctx, n, timeout, status, log)
	}
	return func() {
		if err := n.Send("STOPPING=1", "STATUS=stopping"); err != nil {
			log.Warn("telling systemd we are stopping failed", "err", err)
		}
	}
}
