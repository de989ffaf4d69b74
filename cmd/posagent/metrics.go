package main

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/metrics"
	"github.com/posagent/posagent/store/sqlite"
)

// newMetrics builds the /metrics registry over the journal (read at scrape
// time) and the devices. db may be set after the call: the journal is
// opened after the gateways, whose transports the metrics measure.
func newMetrics(db **sqlite.DB, devices *deviceReport) *metrics.Metrics {
	return metrics.New(metrics.Options{
		Version: version,
		Journal: func(ctx context.Context) (metrics.JournalStats, error) {
			if *db == nil {
				return metrics.JournalStats{}, pos.Errorf(pos.Unavailable, "metrics", "journal not open yet")
			}
			s, err := (*db).Stats(ctx)
			if err != nil {
				return metrics.JournalStats{}, err
			}
			flags, err := (*db).FlagCounts(ctx)
			if err != nil {
				return metrics.JournalStats{}, err
			}
			out := metrics.JournalStats{Refunds: s.Refunds, Outbox: s.Outbox, OldestOutbox: s.OldestOutbox, Bytes: s.Bytes, Flags: map[string]int{}}
			for _, p := range s.Payments {
				out.Payments = append(out.Payments, metrics.PaymentCount{Gateway: p.Gateway, Wallet: p.Wallet, Method: p.Method, State: p.State, N: p.N})
			}
			for f, n := range flags {
				out.Flags[string(f)] = n
			}
			return out, nil
		},
		Devices: func(ctx context.Context) []metrics.Device {
			var out []metrics.Device
			if devices == nil {
				return nil
			}
			if devices.hub != nil {
				for _, s := range devices.hub.Statuses() {
					out = append(out, metrics.Device{Kind: "scanner", Name: s.Name, Up: s.Connected})
				}
			}
			if devices.printer != nil {
				out = append(out, metrics.Device{Kind: "printer", Name: "receipt", Up: devices.printer.Status(ctx).Ready})
			}
			return out
		},
	})
}

// withMetrics serves /metrics beside the API on the same listener: behind
// the API's bearer token unless the config opens it (the listener is
// loopback-only either way, see configs.Validate).
func withMetrics(api http.Handler, m *metrics.Metrics, token string, open bool) http.Handler {
	if m == nil {
		return api
	}
	h := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			api.ServeHTTP(w, r)
			return
		}
		if !open {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="posagent"`)
				http.Error(w, "metrics need the API token (Authorization: Bearer ...), or metrics.open: true in the config", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
