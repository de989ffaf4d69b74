package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// AllOps lists every payment's outstanding operations; RetryOpNow makes one
// due without counting an attempt; the refund outbox likewise; unknown ids
// are NotFound.
func TestOutboxAdmin(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a := samplePayment("pay_a")
	b := samplePayment("pay_b")
	later := t0.Add(time.Hour)
	for _, p := range []pos.Payment{a, b} {
		c := create(p)
		c.Enqueue = []store.Op{{Kind: store.OpQuery, NotBefore: later}}
		mustAppend(t, db, c)
	}
	mustAppend(t, db, move(mustPayment(t, db, "pay_b"), pos.StateReversing, t0.Add(time.Second)))
	ops, err := db.AllOps(ctx)
	if err != nil || len(ops) != 2 || ops[0].PaymentID != "pay_a" || ops[1].PaymentID != "pay_b" {
		t.Fatalf("AllOps = %+v, %v", ops, err)
	}
	if err := db.RetryOp(ctx, ops[0].ID, later, "timeout"); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.DueOps(ctx, t0); len(due) != 0 {
		t.Fatalf("due before retry now: %+v", due)
	}
	if err := db.RetryOpNow(ctx, ops[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	due, err := db.DueOps(ctx, t0)
	if err != nil || len(due) != 1 || due[0].ID != ops[0].ID || due[0].Attempts != 1 || due[0].LastError != "timeout" {
		t.Fatalf("DueOps after RetryOpNow = %+v, %v (want op %d with its attempt and error kept)", due, err, ops[0].ID)
	}
	if err := db.RetryOpNow(ctx, 999, t0); !pos.Match(pos.NotFound, err) {
		t.Fatalf("RetryOpNow(unknown) = %v, want NotFound", err)
	}

	p := succeededPayment(t, db, "pay_r", 1000)
	r := newRefund(p, 500)
	c := createRefund(r)
	c.Enqueue = []store.RefundOp{{Kind: store.RefundOpQuery, NotBefore: later}}
	mustAppendRefund(t, db, c)
	rops, err := db.AllRefundOps(ctx)
	if err != nil || len(rops) != 1 || rops[0].RefundID != r.ID {
		t.Fatalf("AllRefundOps = %+v, %v", rops, err)
	}
	if err := db.RetryRefundOpNow(ctx, rops[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	if due, err := db.DueRefundOps(ctx, t0); err != nil || len(due) != 1 {
		t.Fatalf("DueRefundOps after RetryRefundOpNow = %+v, %v", due, err)
	}
	if err := db.RetryRefundOpNow(ctx, 999, t0); !pos.Match(pos.NotFound, err) {
		t.Fatalf("RetryRefundOpNow(unknown) = %v, want NotFound", err)
	}
}
