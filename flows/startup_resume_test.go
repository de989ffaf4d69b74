package flows_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// heldGateway answers a merchant QR create and a refund only when the test
// lets it: entered tells that the call is on the wire, release lets it
// answer (a QR order waiting for its scan, a refund done).
type heldGateway struct {
	entered, release chan struct{}
}

func newHeldGateway() *heldGateway {
	return &heldGateway{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (*heldGateway) Kind() string { return "held" }
func (*heldGateway) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{MerchantQR: []pos.Wallet{pos.WeChatPay}, Refund: true, PartialRefund: true}
}
func (*heldGateway) Timing() gateways.Timing {
	return gateways.Timing{PollInterval: 5 * time.Second, MinPollInterval: 5 * time.Second, QRTimeout: 2 * time.Minute,
		CallTimeout: time.Minute, RetryBackoff: 5 * time.Second, RetryBackoffMax: 30 * time.Second}
}
func (g *heldGateway) hold() {
	g.entered <- struct{}{}
	<-g.release
}
func (g *heldGateway) CreateQR(context.Context, gateways.QRRequest) (gateways.Result, error) {
	g.hold()
	return gateways.Result{Status: gateways.StatusUserPaying, CodeURL: "weixin://wxpay/bizpayurl?pr=held"}, nil
}
func (*heldGateway) Query(context.Context, gateways.OrderRef) (gateways.Result, error) {
	return gateways.Result{Status: gateways.StatusUserPaying}, nil
}
func (g *heldGateway) Refund(context.Context, gateways.RefundRequest) (gateways.Result, error) {
	g.hold()
	return gateways.Result{Status: gateways.StatusSucceeded, RefundID: "R-held"}, nil
}
func (*heldGateway) QueryRefund(context.Context, gateways.RefundRequest) (gateways.Result, error) {
	return gateways.Result{Status: gateways.StatusUserPaying}, nil
}

// waitRecovered waits for a Run's start-up resume to finish (a bound, not
// a timed assertion: on time it is what the test waits for).
func waitRecovered(t *testing.T, recovered func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !recovered(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the runner never finished its start-up resume")
		}
	}
}

// TestStartupResumeLeavesPaymentsOfThisProcess: a merchant QR order whose
// create is on the wire while Run starts (the API serves before recovery
// is done; a till posting a sale right after the daemon starts) is no
// payment left from before a restart. The start-up resume leaves it to its
// create, whose answer is adopted: the order waits for the customer, with
// its code, and never went unknown. (It used to be resumed as if caught in
// a crash, unknown in milliseconds, and the create's answer dropped: seen
// as TestCancelledUnclosableQRLeavesTheDisplay's "Start = unknown" on a
// loaded machine.)
func TestStartupResumeLeavesPaymentsOfThisProcess(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	gw := newHeldGateway()
	r, err := flows.NewRunner(flows.Options{Journal: db, Gateways: map[string]gateways.Gateway{"held": gw},
		CodeKey: []byte("0123456789abcdef0123456789abcdef"), Tick: 20 * time.Millisecond, WalletRules: flows.WalletRules{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan pos.Payment, 1)
	go func() {
		p, err := r.Start(ctx, flows.StartRequest{Amount: pos.Money{Minor: 1292, Currency: "CNY"}, Method: pos.MerchantQR, Wallet: pos.WeChatPay})
		if err != nil {
			t.Errorf("Start: %v", err)
		}
		started <- p
	}()
	<-gw.entered // journaled in submitting, the create on the wire

	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitRecovered(t, r.Recovered)
	close(gw.release)

	p := <-started
	evs, err := db.Events(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.To == pos.StateUnknown || strings.Contains(e.Reason, "restart") {
			t.Errorf("the payment being created in this process was resumed as a leftover: %s -> %s %q", e.From, e.To, e.Reason)
		}
	}
	if p.State != pos.StateUserPaying || p.CodeURL == "" {
		t.Fatalf("after the create answered, the payment is %s with code %q, want %s with the create's code", p.State, p.CodeURL, pos.StateUserPaying)
	}
}

// TestStartupResumeLeavesRefundsOfThisProcess: the same for a refund on
// the wire while the refund runner starts: the refund's answer is
// adopted, and it was never resumed as a leftover.
func TestStartupResumeLeavesRefundsOfThisProcess(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Now()
	p := pos.Payment{ID: "pay_held", OutTradeNo: "OTNHELD", Gateway: "held", Method: pos.MerchantQR,
		Amount: pos.Money{Minor: 1000, Currency: "CNY"}, Wallet: pos.WeChatPay,
		State: pos.StateSubmitting, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: now}); err != nil {
		t.Fatal(err)
	}
	p.State = pos.StateSucceeded
	if err := db.Append(ctx, store.Change{Payment: p, From: pos.StateSubmitting, Reason: "paid", At: now}); err != nil {
		t.Fatal(err)
	}
	gw := newHeldGateway()
	rr, err := flows.NewRefundRunner(flows.RefundOptions{Journal: db, Gateways: map[string]gateways.Gateway{"held": gw}, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	refunded := make(chan pos.Refund, 1)
	go func() {
		rf, err := rr.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: pos.Money{Minor: 400, Currency: "CNY"}, Reason: "returned"})
		if err != nil {
			t.Errorf("Refund: %v", err)
		}
		refunded <- rf
	}()
	<-gw.entered

	done := make(chan struct{})
	go func() { _ = rr.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitRecovered(t, rr.Recovered)
	close(gw.release)

	rf := <-refunded
	evs, err := db.RefundEvents(ctx, rf.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.To == pos.RefundUnknown || strings.Contains(e.Reason, "restart") {
			t.Errorf("the refund being sent by this process was resumed as a leftover: %s -> %s %q", e.From, e.To, e.Reason)
		}
	}
	if rf.State != pos.RefundSucceeded || rf.GatewayRefundID != "R-held" {
		t.Fatalf("after the refund answered it is %s (gateway id %q), want %s with the answer's id", rf.State, rf.GatewayRefundID, pos.RefundSucceeded)
	}
}
