package flows_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allinpay/allinpaysim"
	"github.com/posagent/posagent/gateways/sim"
)

// laterClock is the wall clock moved on by d.
type laterClock struct{ d time.Duration }

func (c laterClock) Now() time.Time { return time.Now().Add(c.d) }

// TestVoidOnlyTheSameDay (issue 10): a void asked for a payment of an
// earlier acquirer day (Allinpay voids only "the transaction of the same
// day", §1.5.2.4) is journaled and done as a refund of the whole payment,
// and so is one for a payment already partly refunded; one of today's
// untouched payment is a void, and the simulator voided the sale.
func TestVoidOnlyTheSameDay(t *testing.T) {
	d := newAllinpayDay(t)
	tl := d.till(t)
	ctx := context.Background()

	today := tl.pay(t, 2000)
	v, err := tl.refunds.Refund(ctx, flows.RefundRequest{PaymentID: today.ID, Void: true})
	if err != nil || v.Method != pos.RefundByVoid || v.Amount != hkd(2000) {
		t.Fatalf("void of today's payment: %+v %v", v, err)
	}
	if _, err := tl.refunds.Refund(ctx, flows.RefundRequest{PaymentID: today.ID, Void: true, Amount: hkd(100)}); !pos.Match(pos.Invalid, err) {
		t.Errorf("a void with an amount: %v, want Invalid", err)
	}

	partly := tl.pay(t, 3000)
	tl.refund(t, partly, 500)
	r, err := tl.refunds.Refund(ctx, flows.RefundRequest{PaymentID: partly.ID, Void: true})
	if err != nil || r.Method != pos.RefundByRefund || r.Amount != hkd(2500) {
		t.Errorf("void of a partly refunded payment: %+v %v; want a refund of what is left", r, err)
	}

	yesterday := tl.pay(t, 4000)
	d.nextDay()
	next, err := flows.NewRefundRunner(flows.RefundOptions{Journal: tl.db, Gateways: map[string]gateways.Gateway{"allinpay": d.g},
		Clock: laterClock{24 * time.Hour}, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r, err = next.Refund(ctx, flows.RefundRequest{PaymentID: yesterday.ID, Void: true})
	if err != nil || r.Method != pos.RefundByRefund || r.Amount != hkd(4000) {
		t.Errorf("void of yesterday's payment: %+v %v; want a refund of all of it", r, err)
	}

	for !v.State.Final() {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err = tl.refunds.WaitRefund(wctx, v.ID, v.State)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if o, _ := d.srv.Order(today.OutTradeNo); v.State != pos.RefundSucceeded || o.State != sim.Revoked {
		t.Errorf("void ended %s (%s); the simulator has the order %s", v.State, v.Outcome, o.State)
	}
}

// TestReconcileVoidedSale: a sale voided the same day is, in the next
// day's Allinpay bill, a payment line and its void line (*_CANCEL); the
// reconciliation matches both with the journal's payment and its void
// record, and the day's totals agree (the void on the reversed side).
func TestReconcileVoidedSale(t *testing.T) {
	d := newAllinpayDay(t)
	tl := d.till(t)
	ctx := context.Background()
	tl.pay(t, 1000)
	sale := tl.pay(t, 2000)
	v, err := tl.refunds.Refund(ctx, flows.RefundRequest{PaymentID: sale.ID, Void: true})
	if err != nil || v.Method != pos.RefundByVoid {
		t.Fatalf("void: %+v %v", v, err)
	}
	for !v.State.Final() {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err = tl.refunds.WaitRefund(wctx, v.ID, v.State)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if v.State != pos.RefundSucceeded {
		t.Fatalf("void ended %s (%s)", v.State, v.Outcome)
	}
	d.nextDay()
	rep := reconcile(t, tl, d.g, today())
	if !rep.OK() || rep.Matched != 3 || rep.BillLines != 3 {
		t.Fatalf("report = %+v", rep)
	}
	tot := rep.Totals[0]
	for name, s := range map[string]flows.ReconSide{"journal": tot.Journal, "bill": tot.Bill} {
		if s.Payments != 2 || s.Paid != hkd(3000) || s.Reversals != 1 || s.Reversed != hkd(2000) || s.Refunds != 0 || s.Net != hkd(1000) {
			t.Errorf("%s totals = %+v, want 2 payments of 3000, one void of 2000, net 1000", name, s)
		}
	}
}

// TestNotificationOfAVoidIsAcknowledged: a verified notification that
// names a void (or refund) only by its own number, as Allinpay's *_CANCEL
// and *_RETURN notifications do (§1.5.2.6 has no original's number), is
// acknowledged for the refund record, so the platform does not resend it
// forever, and adopts nothing: the payment and the void stay as their own
// calls left them. One naming no record of ours is still refused.
func TestNotificationOfAVoidIsAcknowledged(t *testing.T) {
	d := newAllinpayDay(t)
	tl := d.till(t)
	ctx := context.Background()
	sale := tl.pay(t, 2000)
	v, err := tl.refunds.Refund(ctx, flows.RefundRequest{PaymentID: sale.ID, Void: true})
	if err != nil || v.Method != pos.RefundByVoid {
		t.Fatalf("void: %+v %v", v, err)
	}
	n := gateways.Notification{ID: "allinpay:WXPAY_CANCEL:" + v.OutRefundNo, OutTradeNo: v.OutRefundNo,
		Result: gateways.Result{Status: gateways.StatusUnknown, OutTradeNo: v.OutRefundNo, OutRefundNo: v.OutRefundNo}}
	p, err := tl.runner.Notify(ctx, "allinpay", n)
	if err != nil || p.ID != sale.ID || p.State != pos.StateSucceeded || p.ChargedLate || p.Alert != "" {
		t.Errorf("the void's notification: %+v %v; want acknowledged for payment %s, unchanged", p, err, sale.ID)
	}
	if after, _ := tl.runner.Get(ctx, sale.ID); after.State != pos.StateSucceeded || after.ChargedLate || after.Alert != "" || after.Reason != sale.Reason {
		t.Errorf("the notification changed the payment: %+v", after)
	}
	n.ID, n.OutTradeNo, n.Result.OutTradeNo, n.Result.OutRefundNo = "other", "RFNOTOURS", "RFNOTOURS", "RFNOTOURS"
	if _, err := tl.runner.Notify(ctx, "allinpay", n); !pos.Match(pos.NotFound, err) {
		t.Errorf("a notification of a refund number nobody drew: %v, want NotFound", err)
	}
}

// TestSimulatedVoidNotificationIsAcknowledged: the notification Allinpay's
// simulator posts for an executed void (*_CANCEL, §1.5.2.4 carries a
// notifyUrl), read by the adapter and applied by Runner.Notify, is
// acknowledged and adopts nothing: the sale it voided stays as the void's
// own calls left it (the refund record settles the void).
func TestSimulatedVoidNotificationIsAcknowledged(t *testing.T) {
	var tl atomic.Pointer[till]
	var mu sync.Mutex
	type applied struct {
		p   pos.Payment
		err error
	}
	var cancels []applied
	var d allinpayDay
	nts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n, err := d.g.ParseNotification(r.Header, body)
		if err == nil && tl.Load() != nil {
			var p pos.Payment
			p, err = tl.Load().runner.Notify(r.Context(), "allinpay", n)
			if strings.Contains(n.ID, "_CANCEL:") {
				mu.Lock()
				cancels = append(cancels, applied{p, err})
				mu.Unlock()
			}
		} else if err == nil {
			err = pos.Errorf(pos.Unavailable, "test", "no till yet")
		}
		_, ack := d.g.NotificationAck(err == nil)
		_, _ = w.Write(ack)
	}))
	t.Cleanup(nts.Close)
	d = newAllinpayDay(t, func(o *allinpaysim.Options) { o.NotifyURL = nts.URL })
	tl.Store(d.till(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sale := tl.Load().pay(t, 2000)
	v, err := tl.Load().refunds.Refund(ctx, flows.RefundRequest{PaymentID: sale.ID, Void: true})
	if err != nil || v.Method != pos.RefundByVoid {
		t.Fatalf("void: %+v %v", v, err)
	}
	for !v.State.Final() {
		if v, err = tl.Load().refunds.WaitRefund(ctx, v.ID, v.State); err != nil {
			t.Fatal(err)
		}
	}
	if v.State != pos.RefundSucceeded {
		t.Fatalf("void ended %s", v.State)
	}
	if o, _ := d.srv.Order(sale.OutTradeNo); o.State != sim.Revoked {
		t.Fatalf("the simulator did not void the sale: %s", o.State)
	}
	// Bounded by the simulator's resend schedule, not asserted on time.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(cancels)
		mu.Unlock()
		if n > 0 {
			break
		}
	}
	mu.Lock()
	got := append([]applied(nil), cancels...)
	mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d void notifications applied, want 1", len(got))
	}
	if got[0].err != nil || got[0].p.ID != sale.ID {
		t.Errorf("the void's notification: payment %q, %v; want acknowledged for %s", got[0].p.ID, got[0].err, sale.ID)
	}
	after, err := tl.Load().runner.Get(ctx, sale.ID)
	if err != nil || after.State != pos.StateSucceeded || after.ChargedLate || after.Alert != "" {
		t.Errorf("the notification changed the payment: %+v %v", after, err)
	}
	for deadline := time.Now().Add(10 * time.Second); !d.srv.Acked(v.OutRefundNo) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !d.srv.Acked(v.OutRefundNo) {
		t.Errorf("the simulator did not hear the till acknowledge the void's notification")
	}
}
