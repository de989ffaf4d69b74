package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/posagent/posagent/hw/display"
)

// minFreeJournal is the free space below which no new payment or refund is
// taken: every payment costs a few journal writes, and one that cannot be
// journaled must not reach a gateway.
const minFreeJournal = 64 << 20

// freeBytes reports the space available to the daemon on dir's file system.
func freeBytes(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// withDiskGuard refuses new payments and refunds with 503 (problem type
// unavailable) while the journal's file system has less than min bytes
// free, before anything is journaled or sent; everything else (status,
// cancel, the payments already under way) goes on. The refusal is logged
// once per episode. A refused payment is also shown on the customer
// display (disp, when not nil), in the display's own words: the customer
// is standing at the till and must be told to pay another way, not left
// looking at a welcome screen. A refused refund is not: the cashier reads
// the API's answer.
func withDiskGuard(h http.Handler, dir string, min uint64, free func(string) (uint64, error), disp display.Display, log *slog.Logger) http.Handler {
	var low atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creating := r.Method == http.MethodPost && (r.URL.Path == "/v1/payments" || strings.HasSuffix(r.URL.Path, "/refunds"))
		if !creating {
			h.ServeHTTP(w, r)
			return
		}
		n, err := free(dir)
		if err != nil || n >= min {
			if low.Swap(false) {
				log.Info("journal disk has room again; taking payments", "freeMiB", n>>20)
			}
			h.ServeHTTP(w, r)
			return
		}
		if !low.Swap(true) {
			log.Error("journal disk nearly full: refusing new payments and refunds", "dir", dir, "freeMiB", n>>20, "needMiB", min>>20)
		}
		if disp != nil && r.URL.Path == "/v1/payments" {
			// Bounded: a pole display on a wedged serial port must not
			// hold the till's answer.
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			if err := disp.Show(ctx, display.Screen{Kind: display.Rejected, Outcome: display.OutcomeTillUnavailable}); err != nil {
				log.Warn("customer display did not take the refusal", "err", err)
			}
			cancel()
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"type":   "urn:posagent:problem:unavailable",
			"title":  "Payments are paused: the till's disk is full",
			"status": http.StatusServiceUnavailable,
			"detail": fmt.Sprintf("only %d MiB free where the journal is (%s); at least %d MiB are needed to journal a payment before it is sent; free space, then retry", n>>20, dir, min>>20),
			"kind":   "unavailable",
		})
	})
}
