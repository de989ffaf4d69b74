package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// TestOnlyPruningRemovesHistory: the append-only triggers still refuse
// every delete but the sanctioned one, the kept totals and the prune log
// can only grow, and Prune leaves no pruning row behind.
func TestOnlyPruningRemovesHistory(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	old := samplePayment("pay_old")
	old.CodeURL = ""
	mustAppend(t, db, create(old))
	mustAppend(t, db, move(old, pos.StateSucceeded, t0.Add(time.Minute)))
	open := samplePayment("pay_open")
	open.CodeURL = ""
	mustAppend(t, db, create(open))
	watermark := t0.Add(time.Hour).UnixNano()

	refused := func(what, q string, args ...any) {
		t.Helper()
		if _, err := db.w.ExecContext(ctx, q, args...); err == nil {
			t.Errorf("%s was allowed: %s", what, q)
		}
	}
	refused("deleting a final payment's events outside a prune", `DELETE FROM events WHERE payment_id = 'pay_old'`)
	refused("deleting a final payment outside a prune", `DELETE FROM payments WHERE id = 'pay_old'`)

	// Even under a pruning row, a pending payment and a history newer
	// than the watermark are kept.
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pruning (before) VALUES (?)`, watermark); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE payment_id = 'pay_open'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("a pending payment's events could be deleted under a pruning row: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM payments WHERE id = 'pay_open'`); err == nil {
		t.Errorf("a pending payment could be deleted under a pruning row")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pruning SET before = ?`, t0.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE payment_id = 'pay_old'`); err == nil {
		t.Errorf("events newer than the watermark could be deleted")
	}
	tx.Rollback()

	res, err := db.Prune(ctx, t0.Add(time.Hour), 10, "UTC", func(cs []store.Compactable) []store.DayTotal {
		if len(cs) != 1 || cs[0].Payment.ID != "pay_old" {
			t.Errorf("compactable: %+v, want pay_old alone", cs)
		}
		return []store.DayTotal{{Day: "2026-03-14", Zone: "UTC", Wallet: pos.WeChatPay, Currency: "CNY", Payments: 1, Paid: 1234}}
	})
	if err != nil || res.Payments != 1 || res.Events != 2 || len(res.Days) != 1 {
		t.Fatalf("Prune: %+v %v", res, err)
	}
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM pruning`).Scan(&n); err != nil || n != 0 {
		t.Errorf("pruning rows left after Prune: %d %v", n, err)
	}
	var logged, payments, events int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*), sum(payments), sum(events) FROM prunes`).Scan(&logged, &payments, &events); err != nil || logged != 1 || payments != 1 || events != 2 {
		t.Errorf("prune log: %d rows, %d payments, %d events (%v)", logged, payments, events, err)
	}
	if got, err := db.DayTotals(ctx, "2026-03-14"); err != nil || len(got) != 1 || got[0].Paid != 1234 {
		t.Errorf("DayTotals: %+v %v", got, err)
	}
	refused("deleting day totals", `DELETE FROM day_totals`)
	refused("lowering day totals", `UPDATE day_totals SET paid_minor = 1`)
	refused("rewriting the prune log", `UPDATE prunes SET payments = 0`)
	refused("deleting the prune log", `DELETE FROM prunes`)
	refused("lowering the pruned counts", `UPDATE pruned_payments SET n = 0`)
	if _, err := db.Payment(ctx, "pay_open"); err != nil {
		t.Errorf("the pending payment went: %v", err)
	}

	// A totals function that returns nonsense prunes nothing.
	again := samplePayment("pay_old2")
	again.CodeURL, again.OutTradeNo = "", "otn_old2"
	mustAppend(t, db, create(again))
	mustAppend(t, db, move(again, pos.StateFailed, t0.Add(time.Minute)))
	if _, err := db.Prune(ctx, t0.Add(time.Hour), 10, "UTC", func([]store.Compactable) []store.DayTotal {
		return []store.DayTotal{{Day: "", Currency: "CNY"}}
	}); err == nil {
		t.Errorf("Prune with an invalid day total succeeded")
	}
	if _, err := db.Payment(ctx, "pay_old2"); err != nil {
		t.Errorf("a failed Prune removed a payment: %v", err)
	}
}
