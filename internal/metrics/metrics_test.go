package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	return rec.Body.String()
}

func TestJournalFiguresAtScrapeTime(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	stats := JournalStats{
		Payments: []PaymentCount{{"mmsp", "wechat", "micropay", "succeeded", 7}, {"mmsp", "alipay", "qr", "failed", 2}},
		Refunds:  map[string]int{"succeeded": 3, "attention": 1},
		Outbox:   4, OldestOutbox: now.Add(-90 * time.Second), Bytes: 8192,
		Flags: map[string]int{"mismatch": 5, "charged_late": 1},
	}
	fail := false
	m := New(Options{Version: "1.2.3", Now: func() time.Time { return now },
		Journal: func(context.Context) (JournalStats, error) {
			if fail {
				return JournalStats{}, errors.New("disk gone")
			}
			return stats, nil
		},
		Devices: func(context.Context) []Device {
			return []Device{{"scanner", "front", true}, {"printer", "receipt", false}}
		},
	})
	out := scrape(t, m)
	for _, want := range []string{
		`posagent_payments{gateway="mmsp",method="micropay",state="succeeded",wallet="wechat"} 7`,
		`posagent_payments{gateway="mmsp",method="qr",state="failed",wallet="alipay"} 2`,
		`posagent_refunds{state="attention"} 1`,
		"posagent_outbox_depth 4",
		"posagent_outbox_oldest_age_seconds 90",
		"posagent_answers_mismatched 5",
		"posagent_payments_charged_after_gave_up 1",
		"posagent_journal_bytes 8192",
		`posagent_device_up{kind="printer",name="receipt"} 0`,
		`posagent_device_up{kind="scanner",name="front"} 1`,
		`posagent_build_info{goversion="`,
		"posagent_journal_scrape_ok 1",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	fail = true
	if out := scrape(t, m); !strings.Contains(out, "posagent_journal_scrape_ok 0") {
		t.Error("a failing journal read is not reported")
	}
}

// Gateway calls are measured on the wire, labelled by the operation
// gateways.Do names; other requests pass through unmeasured.
func TestTransportMeasuresGatewayCalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(502)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	m := New(Options{Version: "t"})
	client := &http.Client{Transport: m.Transport("", nil)}
	call := func(path, op string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, nil)
		_, _ = gateways.Do(context.Background(), client, req, op)
	}
	call("/", "mmsp.Micropay")
	call("/", "mmsp.Query")
	call("/", "mmsp.Query")
	call("/fail", "mmsp.Reverse")
	if resp, err := client.Get(srv.URL); err == nil { // not a gateway call
		resp.Body.Close()
	}
	named := &http.Client{Transport: m.Transport("counter-swiftpass", nil)}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	_, _ = gateways.Do(context.Background(), named, req, "swiftpass.Query")

	out := scrape(t, m)
	for _, want := range []string{
		`posagent_gateway_call_duration_seconds_count{gateway="mmsp",op="Micropay",outcome="ok"} 1`,
		`posagent_gateway_call_duration_seconds_count{gateway="mmsp",op="Query",outcome="ok"} 2`,
		`posagent_gateway_call_duration_seconds_count{gateway="mmsp",op="Reverse",outcome="http_5xx"} 1`,
		`posagent_gateway_polls_total{gateway="mmsp"} 2`,
		`posagent_gateway_polls_total{gateway="counter-swiftpass"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Count(out, "posagent_gateway_call_duration_seconds_count{") != 4 {
		t.Errorf("a request that is not a gateway call was measured:\n%s", out)
	}
}

// The operator's figures appear once the daemon sets them: overdue outbox
// items (outbox.alert_after) and the last kept reconciliation.
func TestOperatorFigures(t *testing.T) {
	m := New(Options{Version: "t"})
	if out := scrape(t, m); strings.Contains(out, "posagent_outbox_overdue") || strings.Contains(out, "posagent_reconcile_last_ok") {
		t.Fatalf("operator figures before SetOperator:\n%s", out)
	}
	at := time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC)
	stats := OperatorStats{OutboxOverdue: 2}
	var fail bool
	m.SetOperator(func(context.Context) (OperatorStats, error) {
		if fail {
			return OperatorStats{}, errors.New("journal gone")
		}
		return stats, nil
	})
	out := scrape(t, m)
	for _, want := range []string{"posagent_outbox_overdue 2", "posagent_operator_scrape_ok 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "posagent_reconcile_last_ok") {
		t.Error("a reconciliation is reported before any ran")
	}
	stats = OperatorStats{Reconciled: &Reconciliation{At: at, Date: "2026-12-01", OK: false, Issues: 3, Failed: 1}}
	out = scrape(t, m)
	for _, want := range []string{
		"posagent_outbox_overdue 0",
		`posagent_reconcile_last_run_timestamp_seconds{date="2026-12-01"} 1.796175e+09`,
		"posagent_reconcile_last_ok 0",
		"posagent_reconcile_last_mismatches 3",
		"posagent_reconcile_last_failed_gateways 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	fail = true
	if out := scrape(t, m); !strings.Contains(out, "posagent_operator_scrape_ok 0") {
		t.Error("a failing operator read is not reported")
	}
}
