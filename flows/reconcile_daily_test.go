package flows_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// billGateway is a gateway whose only job here is to serve a bill.
type billGateway struct {
	bills map[string]gateways.Bill // by day, YYYY-MM-DD
	asked []string
	// down: the bill cannot be had.
	down bool
}

func (g *billGateway) Kind() string                        { return "fakebill" }
func (g *billGateway) Capabilities() gateways.Capabilities { return gateways.Capabilities{} }
func (g *billGateway) Timing() gateways.Timing             { return gateways.Timing{} }
func (g *billGateway) Query(context.Context, gateways.OrderRef) (gateways.Result, error) {
	return gateways.Result{}, errors.New("not in this test")
}
func (g *billGateway) BillZone() *time.Location { return time.FixedZone("UTC+8", 8*3600) }
func (g *billGateway) DailyBill(ctx context.Context, day time.Time) (gateways.Bill, error) {
	d := day.In(g.BillZone()).Format(time.DateOnly)
	g.asked = append(g.asked, d)
	if g.down {
		return gateways.Bill{}, pos.Errorf(pos.Unavailable, "fakebill", "the acquirer is down")
	}
	return g.bills[d], nil
}

type manualClock struct{ t time.Time }

func (c *manualClock) Now() time.Time { return c.t }

// The daily run reconciles, at the till's time of day, the acquirer day
// before (UTC+8), keeps the result in the journal, never runs a kept day
// again (not even after a restart later that day), and runs the next day's
// the next day. Driven by a manual clock: nothing waits.
func TestDailyReconciliation(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	utc8 := time.FixedZone("UTC+8", 8*3600)
	// A payment of the acquirer's 1 December that the bill has for another amount.
	at := time.Date(2026, 12, 1, 14, 0, 0, 0, utc8)
	p := pos.Payment{ID: "pay_day", OutTradeNo: "PA0001", Gateway: "bill", Method: pos.Micropay, Amount: pos.Money{Minor: 1291, Currency: "CNY"},
		State: pos.StateSubmitting, CreatedAt: at, UpdatedAt: at, SubmittedAt: at}
	if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: at}); err != nil {
		t.Fatal(err)
	}
	done := p
	done.State = pos.StateSucceeded
	if err := db.Append(ctx, store.Change{Payment: done, From: p.State, Reason: "paid", At: at}); err != nil {
		t.Fatal(err)
	}
	g := &billGateway{bills: map[string]gateways.Bill{
		"2026-12-01": {Day: time.Date(2026, 12, 1, 0, 0, 0, 0, utc8), Lines: []gateways.BillLine{
			{Kind: gateways.BillPayment, OutTradeNo: "PA0001", Amount: pos.Money{Minor: 1219, Currency: "CNY"}, At: at, Type: "VSP501"}}},
	}}
	rc, err := flows.NewReconciler(flows.ReconcileOptions{Journal: db, Gateways: map[string]gateways.Gateway{"bill": g}})
	if err != nil {
		t.Fatal(err)
	}
	cet := time.FixedZone("CET", 3600)
	clock := &manualClock{t: time.Date(2026, 12, 2, 9, 29, 0, 0, cet)}
	daily := func() *flows.DailyReconcile {
		d, err := flows.NewDailyReconcile(flows.DailyReconcileOptions{Reconciler: rc, Log: db, Hour: 9, Minute: 30, Location: cet, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := daily()
	check := func(wantRan bool) store.Reconciliation {
		t.Helper()
		kept, ran, err := d.Check(ctx)
		if err != nil || ran != wantRan {
			t.Fatalf("Check at %v = ran %v, %v; want ran %v", clock.t, ran, err, wantRan)
		}
		return kept
	}
	check(false) // 09:29 local: not yet
	if len(g.asked) != 0 {
		t.Fatalf("the bill was asked for before the time of day: %v", g.asked)
	}
	clock.t = time.Date(2026, 12, 2, 9, 30, 0, 0, cet) // 16:30 in UTC+8
	kept := check(true)
	if kept.Date != "2026-12-01" || kept.OK || kept.Issues != 1 || kept.Failed != 0 || kept.Trigger != "daily" || !kept.At.Equal(clock.t) {
		t.Fatalf("kept %+v", kept)
	}
	if len(g.asked) != 1 || g.asked[0] != "2026-12-01" {
		t.Fatalf("bills asked: %v", g.asked)
	}
	last, err := db.LastReconciliation(ctx)
	if err != nil || last.ID != kept.ID {
		t.Fatalf("the journal's last reconciliation = %+v, %v", last, err)
	}
	reps, err := flows.KeptReports(last)
	if err != nil || len(reps) != 1 || len(reps[0].Issues) != 1 || reps[0].Issues[0].Kind != flows.IssueAmount || reps[0].Issues[0].PaymentID != "pay_day" {
		t.Fatalf("kept reports = %+v, %v", reps, err)
	}
	clock.t = clock.t.Add(30 * time.Minute)
	check(false) // kept: not again
	// A restart late that evening (already 3 December in UTC+8) owes the
	// same day, which is kept.
	clock.t = time.Date(2026, 12, 2, 23, 59, 0, 0, cet)
	d = daily()
	check(false)
	if len(g.asked) != 1 {
		t.Fatalf("a kept day was reconciled again: %v", g.asked)
	}
	clock.t = time.Date(2026, 12, 3, 9, 31, 0, 0, cet)
	kept = check(true)
	if kept.Date != "2026-12-02" || !kept.OK || kept.Issues != 0 {
		t.Fatalf("next day kept %+v", kept)
	}

	// A bill that cannot be had is kept as such, and the day is run again
	// an hour later (not sooner), until the bill is had.
	g.down = true
	clock.t = time.Date(2026, 12, 4, 9, 30, 0, 0, cet)
	kept = check(true)
	if kept.Date != "2026-12-03" || kept.OK || kept.Failed != 1 {
		t.Fatalf("a failed download kept as %+v", kept)
	}
	clock.t = clock.t.Add(59 * time.Minute)
	check(false)
	clock.t = clock.t.Add(time.Minute)
	kept = check(true)
	if kept.Failed != 1 {
		t.Fatalf("second try kept %+v", kept)
	}
	g.down = false
	clock.t = clock.t.Add(time.Hour)
	kept = check(true)
	if kept.Date != "2026-12-03" || !kept.OK || kept.Failed != 0 {
		t.Fatalf("the retry once the bill is there kept %+v", kept)
	}
	clock.t = clock.t.Add(2 * time.Hour)
	check(false)
	if last, _ := db.LastReconciliation(ctx); last.ID != kept.ID {
		t.Errorf("the last kept run is %+v, want the successful retry", last)
	}
}

// Owed: the acquirer day before the one holding the till's time of day,
// for tills west and east of the acquirer.
func TestDailyReconciliationOwes(t *testing.T) {
	for _, c := range []struct {
		zone *time.Location
		now  time.Time
		want string
		ok   bool
	}{
		{time.FixedZone("UTC-8", -8*3600), time.Date(2026, 12, 2, 9, 30, 0, 0, time.FixedZone("UTC-8", -8*3600)), "2026-12-02", true},
		{time.FixedZone("UTC+8", 8*3600), time.Date(2026, 12, 2, 9, 30, 0, 0, time.FixedZone("UTC+8", 8*3600)), "2026-12-01", true},
		{time.FixedZone("UTC+9", 9*3600), time.Date(2026, 12, 2, 9, 29, 59, 0, time.FixedZone("UTC+9", 9*3600)), "", false},
		{time.UTC, time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC), "2026-12-01", true},
	} {
		d, err := flows.NewDailyReconcile(flows.DailyReconcileOptions{Reconciler: &flows.Reconciler{}, Log: nilLog{}, Hour: 9, Minute: 30, Location: c.zone})
		if err != nil {
			t.Fatal(err)
		}
		if got, _, ok := d.Owed(c.now); got != c.want || ok != c.ok {
			t.Errorf("%v: Owed = %q %v, want %q %v", c.now, got, ok, c.want, c.ok)
		}
	}
	for _, s := range []string{"9:30", "24:00", "09:60", "0930", ""} {
		if _, _, err := flows.ParseDailyAt(s); err == nil {
			t.Errorf("ParseDailyAt(%q) accepted", s)
		}
	}
	if h, m, err := flows.ParseDailyAt("09:30"); h != 9 || m != 30 || err != nil {
		t.Errorf("ParseDailyAt(09:30) = %d %d %v", h, m, err)
	}
}

type nilLog struct{ store.ReconcileLog }
