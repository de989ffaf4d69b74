package flows_test

import (
	"context"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
)

// TestNotifyChargedAfterTheTillGaveUp: a verified "paid" notification for a
// payment the till ended failed is not acknowledged silently: the payment
// is flagged charged-late (journaled, counted), and a refund of it is one
// call away, for at most its amount.
func TestNotifyChargedAfterTheTillGaveUp(t *testing.T) {
	rr := newRefundRig(t, true)
	ctx := context.Background()
	p := rr.pay(t, 1293) // the simulator declines ..93
	if p.State != pos.StateFailed {
		t.Fatalf("..93 ended %s, want failed", p.State)
	}
	if _, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID}); !pos.Match(pos.Conflict, err) {
		t.Fatalf("refund of a failed payment: %v, want Conflict", err)
	}
	paid := gateways.Notification{ID: "late-1", OutTradeNo: p.OutTradeNo,
		Result: gateways.Result{Status: gateways.StatusSucceeded, OutTradeNo: p.OutTradeNo, Amount: p.Amount, TransactionID: "T-LATE"}}
	got, err := rr.runner.Notify(ctx, "mmsp", paid)
	if err != nil {
		t.Fatalf("late paid notification: %v", err)
	}
	if got.State != pos.StateFailed || !got.ChargedLate || got.Alert == "" || got.TransactionID != "T-LATE" {
		t.Fatalf("after the late notification: %+v", got)
	}
	evs, _ := rr.runner.Events(ctx, p.ID)
	if last := evs[len(evs)-1]; last.Flag != pos.FlagChargedLate {
		t.Fatalf("last event %+v, want the charged_late flag", last)
	}
	counts, err := rr.journal.FlagCounts(ctx)
	if err != nil || counts[pos.FlagChargedLate] != 1 {
		t.Fatalf("flag counts %v %v", counts, err)
	}
	// The resend of the same notification changes nothing more.
	if _, err := rr.runner.Notify(ctx, "mmsp", paid); err != nil {
		t.Fatal(err)
	}
	if counts, _ := rr.journal.FlagCounts(ctx); counts[pos.FlagChargedLate] != 1 {
		t.Fatalf("a resent notification was flagged again: %v", counts)
	}
	// Refundable now, for at most its amount.
	bal, err := rr.refunds.PaymentRefunds(ctx, p.ID)
	if err != nil || bal.Left != p.Amount {
		t.Fatalf("balance of the charged-late payment: %+v %v", bal, err)
	}
	over := p.Amount
	over.Minor++
	if _, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: over}); !pos.Match(pos.Conflict, err) && !pos.Match(pos.Invalid, err) {
		t.Fatalf("refund above the amount: %v, want it refused", err)
	}
	r, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Reason: "charged after the till gave up"})
	if err != nil || r.Amount != p.Amount {
		t.Fatalf("refund of the charged-late payment: %+v %v", r, err)
	}
}

// TestNotifyMismatchRefused: a notification for another amount is never
// applied: it is flagged, the acquirer is told "fail" (an error), and the
// payment goes on as if nothing came.
func TestNotifyMismatchRefused(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1292), Method: pos.Micropay, Code: code(t, "134567890123456780")})
	if err != nil || p.State != pos.StateUserPaying {
		t.Fatalf("start: %v %v", p.State, err)
	}
	bad := gateways.Notification{ID: "n-1", OutTradeNo: p.OutTradeNo,
		Result: gateways.Result{Status: gateways.StatusSucceeded, OutTradeNo: p.OutTradeNo, Amount: money(t, 1)}}
	got, err := rg.runner.Notify(ctx, "mmsp", bad)
	if !pos.Match(pos.Invalid, err) {
		t.Fatalf("mismatching notification: %v, want Invalid", err)
	}
	if got.State == pos.StateSucceeded || got.Alert == "" {
		t.Fatalf("after the mismatching notification: %+v", got)
	}
	// Refused again when resent, without a second flag.
	if _, err := rg.runner.Notify(ctx, "mmsp", bad); !pos.Match(pos.Invalid, err) {
		t.Fatalf("resent mismatching notification: %v, want Invalid", err)
	}
	if counts, _ := rg.journal.FlagCounts(ctx); counts[pos.FlagMismatch] != 1 {
		t.Fatalf("mismatch flags %v, want 1", counts)
	}
	// The payment carries on as if nothing came: ..92 is reversed.
	if final := rg.final(t, p.ID); final.State != pos.StateReversed {
		t.Fatalf("payment ended %s, want reversed", final.State)
	}
}
