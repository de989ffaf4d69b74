package flows_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/hipopay"
	"github.com/posagent/posagent/gateways/hipopay/hipopaysim"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/store/sqlite"
)

// externalRig is a runner and refund runner on a real journal with the
// real HipoPay adapter against hipopaysim, whose orders a simulated
// mini-program places.
type externalRig struct {
	runner  *flows.Runner
	refunds *flows.RefundRunner
	journal *sqlite.DB
	sim     *hipopaysim.Server
	gw      *hipopay.Client
}

func newExternalRig(t *testing.T) *externalRig {
	t.Helper()
	ks, err := hipopaysim.GenerateKeySet(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	so := hipopaysim.Options{}
	if err := ks.Load(&so); err != nil {
		t.Fatal(err)
	}
	srv, err := hipopaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	g, err := hipopay.New(hipopay.Options{Endpoint: ts.URL, MerchantNO: hipopaysim.DefaultMerchantNO,
		MerchantKeyFile: ks.MerchantKeyFile, PlatformKeyFile: ks.PlatformPublicKeyFile,
		PollInterval: 50 * time.Millisecond, CallTimeout: 5 * time.Second, Simulated: true}, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	gws := map[string]gateways.Gateway{"hipopay": g}
	r, err := flows.NewRunner(flows.Options{Journal: db, Gateways: gws, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := flows.NewRefundRunner(flows.RefundOptions{Journal: db, Gateways: gws, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = r.Run(ctx); done <- struct{}{} }()
	go func() { _ = rr.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return &externalRig{runner: r, refunds: rr, journal: db, sim: srv, gw: g}
}

func hkd(minor int64) pos.Money { return pos.Money{Minor: minor, Currency: "HKD"} }

// An order placed in the mini-program enters the journal as an external
// payment when the cashier looks it up, once; it can then be refunded in
// part and in full.
func TestLookupAdoptsExternalOrder(t *testing.T) {
	rg := newExternalRig(t)
	ctx := context.Background()
	o, err := rg.sim.Seed(hipopaysim.SeedOrder{OutTradeNo: "MP20260301000001", Amount: hkd(2000)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rg.runner.Lookup(ctx, flows.LookupRequest{OutTradeNo: "MP20260301000001"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.External || p.State != pos.StateSucceeded || p.Amount != hkd(2000) || p.TransactionID != o.TransactionID || p.Gateway != "hipopay" {
		t.Fatalf("looked up = %+v", p)
	}
	again, err := rg.runner.Lookup(ctx, flows.LookupRequest{TransactionID: o.TransactionID})
	if err != nil || again.ID != p.ID {
		t.Fatalf("second lookup by payment_no = %+v, %v; want the same payment %s", again, err, p.ID)
	}
	for _, step := range []struct{ amount, want int64 }{{500, 500}, {0, 1500}} {
		req := flows.RefundRequest{PaymentID: p.ID}
		if step.amount > 0 {
			req.Amount = hkd(step.amount)
		}
		ref, err := rg.refunds.Refund(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		f := finalRefund(t, rg.refunds, ref.ID)
		if f.State != pos.RefundSucceeded || f.Amount.Minor != step.want {
			t.Fatalf("refund = %+v, want succeeded %d", f, step.want)
		}
	}
	if got, _ := rg.sim.Ledger().Get("MP20260301000001"); got.RefundedAmount() != 2000 {
		t.Errorf("ledger refunded %d, want 2000", got.RefundedAmount())
	}
}

// Not paid, not known, or a gateway that takes no external orders: nothing
// is journaled.
func TestLookupRefusals(t *testing.T) {
	rg := newExternalRig(t)
	ctx := context.Background()
	if _, err := rg.sim.Seed(hipopaysim.SeedOrder{OutTradeNo: "MP20260301000092", Amount: hkd(2092)}); err != nil { // ..92: waiting for payment
		t.Fatal(err)
	}
	if _, err := rg.runner.Lookup(ctx, flows.LookupRequest{OutTradeNo: "MP20260301000092"}); !pos.Match(pos.Conflict, err) {
		t.Errorf("lookup of an unpaid order: %v, want Conflict", err)
	}
	if _, err := rg.runner.Lookup(ctx, flows.LookupRequest{OutTradeNo: "MP20260301009999"}); !pos.Match(pos.NotFound, err) {
		t.Errorf("lookup of an unknown order: %v, want NotFound", err)
	}
	if _, err := rg.runner.Lookup(ctx, flows.LookupRequest{}); !pos.Match(pos.Invalid, err) {
		t.Errorf("lookup of nothing: %v, want Invalid", err)
	}
	if ps, _ := rg.journal.Recent(ctx, 10); len(ps) != 0 {
		t.Errorf("journal holds %d payments, want none", len(ps))
	}
}

// A verified PAID notification for an order the journal does not know
// adopts it; one that is not PAID does not.
func TestNotificationAdoptsExternalOrder(t *testing.T) {
	rg := newExternalRig(t)
	ctx := context.Background()
	if _, err := rg.sim.Seed(hipopaysim.SeedOrder{OutTradeNo: "MP20260301000002", Amount: hkd(1200), Behaviour: sim.Behaviour{}}); err != nil {
		t.Fatal(err)
	}
	h, body, err := rg.sim.Notification("MP20260301000002", sim.FaultNone)
	if err != nil {
		t.Fatal(err)
	}
	n, err := rg.gw.ParseNotification(h, body)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rg.runner.Notify(ctx, "hipopay", n)
	if err != nil || !p.External || p.State != pos.StateSucceeded || p.OutTradeNo != "MP20260301000002" {
		t.Fatalf("Notify = %+v, %v; want an adopted external payment", p, err)
	}
	// The resend is a duplicate.
	if q, err := rg.runner.Notify(ctx, "hipopay", n); err != nil || q.ID != p.ID {
		t.Errorf("resent notification = %+v, %v", q, err)
	}
	notPaid := n
	notPaid.ID, notPaid.OutTradeNo = "hipopay:X:FAIL", "MP20260301000003"
	notPaid.Result.Status, notPaid.Result.OutTradeNo = gateways.StatusUnknown, "MP20260301000003"
	if _, err := rg.runner.Notify(ctx, "hipopay", notPaid); err == nil {
		t.Error("a notification that is not PAID adopted an order")
	}
	if _, err := rg.journal.PaymentByOutTradeNo(ctx, "MP20260301000003"); !pos.Match(pos.NotFound, err) {
		t.Errorf("journal: %v, want NotFound", err)
	}
}
