package flows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/display"
)

// screens records what the runners show the customer.
type screens struct {
	mu    sync.Mutex
	shown []display.Screen
}

func (s *screens) Show(_ context.Context, sc display.Screen) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shown = append(s.shown, sc)
	return nil
}

func (s *screens) find(kind display.ScreenKind) (display.Screen, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.shown {
		if sc.Kind == kind {
			return sc, true
		}
	}
	return display.Screen{}, false
}

// TestDisplayGetsCountdownsAndRefunds: the merchant QR screen counts down
// to the order's expiry (the payment's deadline, which is what CreateQR is
// given as Expires); a refund that went through is shown.
func TestDisplayGetsCountdownsAndRefunds(t *testing.T) {
	rg := newRefundRig(t, false)
	disp := &screens{}
	r, err := flows.NewRunner(flows.Options{Journal: rg.journal, Gateways: rg.gateways, Display: disp, WalletRules: flows.WalletRules{},
		CodeKey: []byte("0123456789abcdef0123456789abcdef"), AwaitCodeTimeout: 5 * time.Second, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// ..92: the simulated customer never pays, so the QR is shown.
	p, err := r.Start(ctx, flows.StartRequest{Amount: money(t, 1292), Method: pos.MerchantQR, Wallet: pos.WeChatPay})
	if err != nil {
		t.Fatal(err)
	}
	qr, ok := disp.find(display.ShowQR)
	if !ok {
		t.Fatalf("no QR screen after a merchant QR order (payment %s %s)", p.ID, p.State)
	}
	if qr.Expires.IsZero() || !qr.Expires.Equal(p.Deadline) {
		t.Errorf("QR screen expires %v, want the order's deadline %v", qr.Expires, p.Deadline)
	}

	rf, err := flows.NewRefundRunner(flows.RefundOptions{Journal: rg.journal, Gateways: rg.gateways, Display: disp, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = rf.Run(rctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	paid := rg.pay(t, 2000)
	ref, err := rf.Refund(ctx, flows.RefundRequest{PaymentID: paid.ID, Amount: money(t, 700), Reason: "returned"})
	if err == nil && ref.State == pos.RefundProcessing {
		ref = finalRefund(t, rf, ref.ID) // MMSP 受理成功: final by its refund query
	}
	if err != nil || ref.State != pos.RefundSucceeded {
		t.Fatalf("refund: %+v %v", ref, err)
	}
	shown, ok := disp.find(display.Refunded)
	if !ok || shown.Amount != money(t, 700) || shown.PaymentID != paid.ID {
		t.Errorf("refund screen %+v (shown %v), want the refund's amount", shown, ok)
	}
}
