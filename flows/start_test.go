package flows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/store"
)

// Create answers with the payment as journaled, before the gateway has: a
// ..94 amount, which the simulator never answers, is still submitting when
// Create returns, and ends final behind it.
func TestCreateDoesNotWaitForTheGateway(t *testing.T) {
	rg := newRig(t)
	p, err := rg.runner.Create(context.Background(), flows.StartRequest{Amount: money(t, 1294), Method: pos.Micropay, Code: code(t, "134567890123456789"), Reference: "till-42"})
	if err != nil {
		t.Fatal(err)
	}
	if p.State != pos.StateSubmitting || p.Reference != "till-42" {
		t.Fatalf("Create returned %s (reference %q), want the journaled submitting payment", p.State, p.Reference)
	}
	if got := rg.final(t, p.ID); !got.State.Final() || got.Reference != "till-42" {
		t.Fatalf("final: %+v", got)
	}
}

func TestOnePaymentWaitsPerLane(t *testing.T) {
	rg := newRigWith(t, func(o *flows.Options) {
		o.Lanes = []string{"two"}
		o.LaneOf = func(src string) string {
			if src == "scanner-two" {
				return "two"
			}
			return ""
		}
	})
	ctx := context.Background()
	first, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1500), Method: pos.Micropay})
	if err != nil {
		t.Fatal(err)
	}
	// A second payment in the same lane is refused, naming the waiting one.
	_, err = rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1600), Method: pos.Micropay})
	var we *flows.WaitingError
	if !pos.Match(pos.Conflict, err) || !errors.As(err, &we) || we.PaymentID != first.ID {
		t.Fatalf("second waiting payment: %v, want a WaitingError naming %s", err, first.ID)
	}
	// One with its code needs no scan: it is taken, and the waiting one
	// keeps waiting.
	if p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1600), Method: pos.Micropay, Code: code(t, "134567890123456789")}); err != nil || p.State != pos.StateSucceeded {
		t.Fatalf("payment with a code beside a waiting one: %v %v", p.State, err)
	}
	// Another lane is free.
	other, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 700), Method: pos.Micropay, Lane: "two"})
	if err != nil {
		t.Fatalf("payment in lane two: %v", err)
	}
	if _, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 700), Method: pos.Micropay, Lane: "nowhere"}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("unknown lane: %v", err)
	}
	// Replace: the waiting one is cancelled (journaled), the new one waits.
	second, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1600), Method: pos.Micropay, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rg.runner.Get(ctx, first.ID); got.State != pos.StateFailed || got.Reason != "cancelled by cashier" {
		t.Fatalf("replaced payment: %s %q", got.State, got.Reason)
	}
	// The customer's scan goes to the new sale, never the replaced one.
	rg.scans <- scanner.Scan{Data: "134567890123456789", Source: "test", At: time.Now()}
	if got := rg.final(t, second.ID); got.State != pos.StateSucceeded || got.Amount.Minor != 1600 {
		t.Fatalf("the scan went elsewhere: %+v", got)
	}
	// Lane two's scanner feeds lane two only.
	rg.scans <- scanner.Scan{Data: "284567890123456789", Source: "scanner-two", At: time.Now()}
	if got := rg.final(t, other.ID); got.State != pos.StateSucceeded || got.Wallet != pos.Alipay {
		t.Fatalf("lane two: %+v", got)
	}
}

// Scans a waiting payment refuses are kept for the cashier, and wake a
// WaitActivity.
func TestScanRefusalsAreReported(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 800), Method: pos.Micropay})
	if err != nil {
		t.Fatal(err)
	}
	rg.scans <- scanner.Scan{Data: "6901234567892", Source: "test", At: time.Now()}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := rg.runner.WaitActivity(wctx, p.ID, pos.StateAwaitingCode, 0)
	if err != nil || got.State != pos.StateAwaitingCode {
		t.Fatalf("after a product barcode: %s %v", got.State, err)
	}
	rs := rg.runner.ScanRefusals(p.ID)
	if len(rs) != 1 || rs[0].Message == "" {
		t.Fatalf("refusals: %+v", rs)
	}
	if _, err := rg.runner.Cancel(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
}

// The key is journaled with the payment; a second create with it is refused
// and journals nothing.
func TestCreateJournalsTheIdempotencyKey(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	key := &store.IdempotencyKey{Key: "till-1-sale-9", Fingerprint: "fp"}
	p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 800), Method: pos.Micropay, Code: code(t, "134567890123456789"), Idempotency: key})
	if err != nil {
		t.Fatal(err)
	}
	k, err := rg.journal.IdempotencyKey(ctx, "till-1-sale-9")
	if err != nil || k.PaymentID != p.ID {
		t.Fatalf("key: %+v %v", k, err)
	}
	_, err = rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 800), Method: pos.Micropay, Code: code(t, "134567890123456789"), Idempotency: key})
	if !errors.Is(err, store.ErrKeyUsed) {
		t.Fatalf("second create with the key: %v", err)
	}
	if ps, _ := rg.journal.Recent(ctx, 10); len(ps) != 1 {
		t.Fatalf("%d payments journaled, want 1", len(ps))
	}
}

// A scan read before a payment began waiting in this process (a payment
// resumed after a restart) goes only to a payment created after the scan:
// here the payment is older than the scan, so the scan is discarded and the
// payment keeps waiting for a new one.
func TestHeldScanNotGivenToAnOlderPayment(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 800), Method: pos.Micropay})
	if err != nil {
		t.Fatal(err)
	}
	scannedAt := time.Now()
	rg.cancel()
	<-rg.done
	r2, err := flows.NewRunner(flows.Options{WalletRules: flows.WalletRules{},
		Journal: rg.journal, Gateways: rg.gateways, Scans: chanScans(rg.scans),
		CodeKey: []byte("0123456789abcdef0123456789abcdef"), AwaitCodeTimeout: 5 * time.Second, Tick: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = r2.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()
	// Held from before the restart: not for this older payment.
	rg.scans <- scanner.Scan{Data: "134567890123456789", Source: "test", At: scannedAt}
	// A fresh scan is (stamped well after the restart, which runs
	// concurrently with this test).
	rg.scans <- scanner.Scan{Data: "284567890123456789", Source: "test", At: time.Now().Add(time.Hour)}
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	for {
		got, err := r2.Get(wctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State.Final() {
			if got.State != pos.StateSucceeded || got.Wallet != pos.Alipay {
				t.Fatalf("payment took the held scan: %s %s", got.State, got.Wallet)
			}
			return
		}
		if _, err := r2.Wait(wctx, p.ID, got.State); err != nil || wctx.Err() != nil {
			t.Fatalf("still %s", got.State)
		}
	}
}
