package flows_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/store/sqlite"
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

func (s *screens) last() display.Screen {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.shown) == 0 {
		return display.Screen{}
	}
	return s.shown[len(s.shown)-1]
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
	// The rig's own runner shares the journal, as a second process would:
	// its start-up resume, still running, would take this runner's order,
	// its create on the wire, for one a restart interrupted.
	for deadline := time.Now().Add(30 * time.Second); !rg.runner.Recovered(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the rig's runner never finished its start-up resume")
		}
	}
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
	if err == nil && !ref.State.Final() {
		// MMSP 受理成功 (processing), or unknown when the call took longer
		// than the rig's 1 s call timeout: final by its refund query.
		ref = finalRefund(t, rf, ref.ID)
	}
	if err != nil || ref.State != pos.RefundSucceeded {
		t.Fatalf("refund: %+v %v", ref, err)
	}
	shown, ok := disp.find(display.Refunded)
	if !ok || shown.Amount != money(t, 700) || shown.PaymentID != paid.ID {
		t.Errorf("refund screen %+v (shown %v), want the refund's amount", shown, ok)
	}
}

// TestCancelledUnclosableQRLeavesTheDisplay (issues 8, 9): a merchant QR
// the gateway cannot close (Allinpay UnionPay, §1.5.2.5 closes WeChat Pay
// and Alipay only) is still payable after the cashier cancels, and the
// till polls it to its expiry. The display leaves the QR as soon as the
// till cancels, asks the customer not to pay, and never shows the QR
// again; polling goes on: an order paid anyway ends succeeded, flagged for
// a refund, and one left unpaid ends failed at its expiry.
func TestCancelledUnclosableQRLeavesTheDisplay(t *testing.T) {
	for _, paid := range []bool{true, false} {
		t.Run(fmt.Sprintf("paid=%v", paid), func(t *testing.T) {
			d := newAllinpayDayWith(t, func(o *allinpay.Options) { o.QRTimeout = 4 * time.Second })
			db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			disp := &screens{}
			r, err := flows.NewRunner(flows.Options{Journal: db, Gateways: map[string]gateways.Gateway{"allinpay": d.g}, Display: disp,
				CodeKey: []byte("0123456789abcdef0123456789abcdef"), Tick: 20 * time.Millisecond, WalletRules: flows.WalletRules{}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = r.Run(ctx); close(done) }()
			t.Cleanup(func() { cancel(); <-done })

			// ..92: the simulated customer never pays by itself.
			p, err := r.Start(ctx, flows.StartRequest{Amount: hkd(1292), Method: pos.MerchantQR, Wallet: pos.UnionPay})
			// A healthy gateway's create is answered: the order waits for
			// the customer when Start returns, on a loaded machine too.
			// (Start = unknown was the start-up resume taking the order
			// for one a restart interrupted, while its create was on the
			// wire: TestStartupResumeLeavesPaymentsOfThisProcess.)
			if err != nil || p.State != pos.StateUserPaying {
				evs, _ := db.Events(ctx, p.ID)
				t.Fatalf("Start = %s %v; events %+v", p.State, err, evs)
			}
			if _, ok := disp.find(display.ShowQR); !ok {
				t.Fatal("no QR shown for the order")
			}
			p, err = r.Cancel(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.State.Final() {
				t.Fatalf("the unclosable order ended %s at the cancel; it must be watched until it expires", p.State)
			}
			last := disp.last()
			if last.Kind != display.Withdrawn || last.PaymentID != p.ID {
				t.Fatalf("after the cancel the display shows %s (payment %s), want %s", last.Kind, last.PaymentID, display.Withdrawn)
			}
			for _, l := range display.Langs {
				if w := display.WordsFor(last, l); w.Heading == "" || w.Message == "" || w.Message == display.WordsFor(display.Screen{Kind: display.ShowQR}, l).Message {
					t.Errorf("withdrawn screen in %s says %+v", l, w)
				}
			}
			if paid {
				if _, err := d.srv.Ledger().Charge(p.OutTradeNo); err != nil {
					t.Fatal(err)
				}
			}
			wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
			defer wcancel()
			for !p.State.Final() {
				if p, err = r.Wait(wctx, p.ID, p.State); err != nil || wctx.Err() != nil {
					t.Fatalf("payment %s still %s: %v", p.ID, p.State, err)
				}
			}
			want := pos.StateFailed
			if paid {
				want = pos.StateSucceeded
			}
			if p.State != want {
				t.Fatalf("the cancelled order ended %s (%s), want %s", p.State, p.Reason, want)
			}
			if paid && (p.Alert == "" || !strings.Contains(p.Reason+p.Alert, "refund")) {
				t.Errorf("paid after the cancel, but not flagged for a refund: reason %q alert %q", p.Reason, p.Alert)
			}
			if paid && !pos.Refundable(p) {
				t.Errorf("the late payment cannot be refunded")
			}
			disp.mu.Lock()
			defer disp.mu.Unlock()
			withdrawn := false
			for _, sc := range disp.shown {
				if sc.Kind == display.Withdrawn {
					withdrawn = true
				}
				if withdrawn && sc.Kind == display.ShowQR {
					t.Errorf("the QR was shown again after the cancel")
				}
			}
		})
	}
}
