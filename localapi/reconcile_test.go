package localapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
)

// extraRoutes are the routes mounted through Options.Extra, for the
// OpenAPI tests.
func extraRoutes() map[string]http.Handler {
	m := localapi.OutboxHandlers(newFakeOutbox())
	m[localapi.ReconcilePattern] = localapi.ReconcileHandler(fakeReconciler{})
	m[localapi.LookupPattern] = localapi.LookupHandler(&lookups{})
	return m
}

type fakeReconciler struct{}

func (fakeReconciler) Reconcile(ctx context.Context, date, gateway string) ([]flows.Report, error) {
	if date != "2026-12-01" {
		return nil, pos.Errorf(pos.Invalid, "fake", "date %q is not YYYY-MM-DD", date)
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))
	return []flows.Report{{Gateway: "allinpay", Date: date, Zone: "UTC+8", From: day, To: day.AddDate(0, 0, 1), HasBill: true, BillLines: 2, Matched: 1,
		Issues:      []flows.ReconIssue{{Kind: flows.IssueNotInJournal, OutTradeNo: "X1", BillAmount: pos.Money{Minor: 1100, Currency: "HKD"}, Message: "not here"}},
		Day:         []flows.ReconLine{{PaymentID: "pay_1", OutTradeNo: "P1", State: "succeeded", Amount: pos.Money{Minor: 100, Currency: "HKD"}, CreatedAt: day}},
		Provisional: true,
		Totals: []flows.ReconTotals{{Currency: "HKD",
			Journal: flows.ReconSide{Payments: 1, Paid: hkdOf(100), Net: hkdOf(100)},
			Bill:    flows.ReconSide{Payments: 2, Paid: hkdOf(1200), Refunds: 1, Refunded: hkdOf(50), Net: hkdOf(1150)}}}}}, nil
}

func hkdOf(minor int64) pos.Money { return pos.Money{Minor: minor, Currency: "HKD"} }

// GET /v1/reconcile answers the reports, ok false on a mismatch; a missing
// or bad date is 400.
func TestReconcileRoute(t *testing.T) {
	s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token, Extra: extraRoutes()})
	if err != nil {
		t.Fatal(err)
	}
	w := do(s, "GET", "/v1/reconcile?date=2026-12-01", "", nil)
	var a localapi.ReconcileAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if a.OK || len(a.Reports) != 1 || a.Reports[0].OK || len(a.Reports[0].Issues) != 1 || *a.Reports[0].Issues[0].BillAmount != 1100 || a.Reports[0].Zone != "UTC+8" {
		t.Fatalf("answer = %+v", a)
	}
	want := []localapi.ReconcileTotals{{Currency: "HKD", Journal: localapi.ReconcileSide{Payments: 1, Paid: 100, Net: 100},
		Bill: localapi.ReconcileSide{Payments: 2, Paid: 1200, Refunds: 1, Refunded: 50, Net: 1150}}}
	if r := a.Reports[0]; !r.Provisional || len(r.Totals) != 1 || r.Totals[0] != want[0] {
		t.Errorf("provisional %v, totals %+v; want %+v", r.Provisional, r.Totals, want)
	}
	for _, q := range []string{"", "?date=yesterday"} {
		if w := do(s, "GET", "/v1/reconcile"+q, "", nil); w.Code != http.StatusBadRequest {
			t.Errorf("%q = %d %s", q, w.Code, w.Body)
		}
	}
}
