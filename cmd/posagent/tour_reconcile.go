package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/posagent/posagent/localapi"
)

// acquirerDay is the acquirer's day (UTC+8, every gateway posagent speaks
// to) holding t.
func acquirerDay(t time.Time) string {
	return t.In(time.FixedZone("UTC+8", 8*3600)).Format("2006-01-02")
}

// tourReconcile is the tour's last step: the acquirer's day the tour ran
// in, reconciled through the API (GET /v1/reconcile) against the
// simulator's bill where the gateway has one. The demo's simulators serve
// the day still running (sim.Base SameDayBills), so the bill is
// provisional. It passes when the day adds up and, with a bill, every
// payment and refund of the journal's day is matched. A tour that crossed
// the acquirer's midnight (16:00 UTC) is reported but not failed: an
// order paid after midnight is on the next day's bill, a real mismatch of
// the cut that a tour cannot avoid.
func tourReconcile(ctx context.Context, c *apiClient, plan tourPlan, day string) ([]string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	q := url.Values{"date": {day}}
	if plan.gateway != "" {
		q.Set("gateway", plan.gateway)
	}
	var a localapi.ReconcileAnswer
	if err := c.do(ctx, http.MethodGet, "/v1/reconcile?"+q.Encode(), nil, &a); err != nil {
		return []string{"  MISMATCH: " + err.Error()}, false
	}
	var buf bytes.Buffer
	printReconcile(&buf, a)
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	ok := a.OK && len(a.Reports) > 0
	for _, r := range a.Reports {
		switch {
		case r.HasBill && r.Matched == len(r.Day) && r.OK:
			lines = append(lines, fmt.Sprintf("  the day adds up against %s's bill: matched %d of the journal's %d (%d bill lines)", r.Gateway, r.Matched, len(r.Day), r.BillLines))
		case r.HasBill:
			ok = false
			lines = append(lines, fmt.Sprintf("  MISMATCH: %s: matched %d of the journal's %d, %d issues", r.Gateway, r.Matched, len(r.Day), len(r.Issues)))
		case r.OK:
			lines = append(lines, fmt.Sprintf("  %s offers no bill: the journal's day is listed (%d)", r.Gateway, len(r.Day)))
		}
	}
	if !ok && acquirerDay(time.Now()) != day {
		lines = append(lines, "  the tour crossed the acquirer's midnight (16:00 UTC): mismatches at the cut are expected, not counted")
		ok = true
	}
	return lines, ok
}
