package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// succeededPayment journals a succeeded payment of amount minor CNY.
func succeededPayment(t *testing.T, db *DB, id string, minor int64) pos.Payment {
	t.Helper()
	p := samplePayment(id)
	p.Amount.Minor = minor
	mustAppend(t, db, create(p))
	mustAppend(t, db, move(p, pos.StateSucceeded, t0.Add(time.Second)))
	return mustPayment(t, db, id)
}

var refundSeq int

// newRefund is a refund of p in submitting, as the runner creates it.
func newRefund(p pos.Payment, minor int64) pos.Refund {
	refundSeq++
	return pos.Refund{
		ID:          fmt.Sprintf("ref_%04d", refundSeq),
		PaymentID:   p.ID,
		OutRefundNo: fmt.Sprintf("RF2026031409265%05d", refundSeq)[:20],
		Amount:      pos.Money{Minor: minor, Currency: p.Amount.Currency},
		Reason:      "customer returned goods",
		State:       pos.RefundSubmitting,
		CreatedAt:   t0.Add(time.Minute),
		UpdatedAt:   t0.Add(time.Minute),
		SubmittedAt: t0.Add(time.Minute),
	}
}

func createRefund(r pos.Refund) store.RefundChange {
	return store.RefundChange{Refund: r, Reason: "refund requested", At: r.CreatedAt}
}

func moveRefund(r pos.Refund, to pos.RefundState, at time.Time) store.RefundChange {
	from := r.State
	r.State, r.UpdatedAt = to, at
	return store.RefundChange{Refund: r, From: from, Reason: string(from) + "->" + string(to), At: at}
}

func mustAppendRefund(t testing.TB, db *DB, c store.RefundChange) {
	t.Helper()
	if err := db.AppendRefund(context.Background(), c); err != nil {
		t.Fatalf("AppendRefund(%s %q->%q): %v", c.Refund.ID, c.From, c.Refund.State, err)
	}
}

// TestRefundRule: a payment is refunded part by part, never above its
// amount; failed refunds give their amount back; only succeeded payments
// are refunded, in their own currency.
func TestRefundRule(t *testing.T) {
	ctx := t.Context()
	db := openAt(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	p := succeededPayment(t, db, "pay_refunded", 1000)

	first := newRefund(p, 400)
	mustAppendRefund(t, db, createRefund(first))
	mustAppendRefund(t, db, moveRefund(first, pos.RefundSucceeded, t0.Add(2*time.Minute)))

	// 400 refunded, 600 left: a pending 500 holds its amount...
	second := newRefund(p, 500)
	mustAppendRefund(t, db, createRefund(second))
	over := newRefund(p, 101)
	err := db.AppendRefund(ctx, createRefund(over))
	if !pos.Match(pos.Conflict, err) || !strings.Contains(err.Error(), "exceeds what is left to refund") || !strings.Contains(err.Error(), "1.00 CNY") {
		t.Fatalf("refund above what is left: %v, want Conflict naming what is left (1.00 CNY)", err)
	}
	// ...until it fails, which frees it.
	mustAppendRefund(t, db, moveRefund(second, pos.RefundUnknown, t0.Add(3*time.Minute)))
	second.State = pos.RefundUnknown
	mustAppendRefund(t, db, moveRefund(second, pos.RefundFailed, t0.Add(4*time.Minute)))
	rest := newRefund(p, 600)
	mustAppendRefund(t, db, createRefund(rest))
	if err := db.AppendRefund(ctx, createRefund(newRefund(p, 1))); !pos.Match(pos.Conflict, err) {
		t.Fatalf("refund of a fully refunded payment: %v, want Conflict", err)
	}

	notYet := samplePayment("pay_user_paying")
	mustAppend(t, db, create(notYet))
	err = db.AppendRefund(ctx, createRefund(newRefund(notYet, 100)))
	if !pos.Match(pos.Conflict, err) || !strings.Contains(err.Error(), "only a succeeded payment can be refunded") {
		t.Errorf("refund of a submitting payment: %v, want Conflict", err)
	}
	yen := newRefund(p, 100)
	yen.Amount.Currency = "JPY"
	if err := db.AppendRefund(ctx, createRefund(yen)); !pos.Match(pos.Invalid, err) {
		t.Errorf("refund in another currency: %v, want Invalid", err)
	}
	ghost := newRefund(pos.Payment{ID: "pay_nobody", Amount: pos.Money{Currency: "CNY"}}, 100)
	if err := db.AppendRefund(ctx, createRefund(ghost)); !pos.Match(pos.NotFound, err) {
		t.Errorf("refund of an unknown payment: %v, want NotFound", err)
	}

	got, err := db.RefundsOf(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var states []pos.RefundState
	for _, r := range got {
		states = append(states, r.State)
	}
	if diff := cmp.Diff([]pos.RefundState{pos.RefundSucceeded, pos.RefundFailed, pos.RefundSubmitting}, states); diff != "" {
		t.Errorf("refunds of the payment (-want +got):\n%s", diff)
	}
	evs, err := db.RefundEvents(ctx, second.ID)
	if err != nil || len(evs) != 3 || evs[0].From != "" || evs[2].To != pos.RefundFailed {
		t.Errorf("history of the failed refund: %+v %v", evs, err)
	}
}

// TestRefundRace: refunds racing for the last of an amount, from many
// goroutines at once, are decided one after the other inside the write
// transaction: exactly as many win as fit.
func TestRefundRace(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	p := succeededPayment(t, db, "pay_raced", 1000)
	mustAppendRefund(t, db, createRefund(newRefund(p, 700)))
	// 300 left: of ten refunds of 100, three fit.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won      int
		conflict int
		other    []error
	)
	refunds := make([]pos.Refund, 10)
	for i := range refunds {
		refunds[i] = newRefund(p, 100)
	}
	for _, r := range refunds {
		wg.Go(func() {
			err := db.AppendRefund(context.Background(), createRefund(r))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case pos.Match(pos.Conflict, err):
				conflict++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	if won != 3 || conflict != 7 || len(other) > 0 {
		t.Fatalf("won %d, refused %d, errors %v; want 3 won and 7 refused", won, conflict, other)
	}
	var sum int64
	rs, _ := db.RefundsOf(t.Context(), p.ID)
	for _, r := range rs {
		sum += r.Amount.Minor
	}
	if sum != 1000 {
		t.Errorf("journaled refunds sum to %d, want exactly 1000", sum)
	}
}

// TestRefundChangeRules: the journal refuses what the refund state machine
// never does.
func TestRefundChangeRules(t *testing.T) {
	ctx := t.Context()
	db := openAt(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	p := succeededPayment(t, db, "pay_rules", 1000)
	r := newRefund(p, 100)
	mustAppendRefund(t, db, createRefund(r))

	twice := createRefund(r)
	if err := db.AppendRefund(ctx, twice); !pos.Match(pos.Conflict, err) {
		t.Errorf("creating a refund twice: %v, want Conflict", err)
	}
	sameNo := newRefund(p, 100)
	sameNo.OutRefundNo = r.OutRefundNo
	if err := db.AppendRefund(ctx, createRefund(sameNo)); !pos.Match(pos.Conflict, err) || !errors.Is(err, store.ErrNumberUsed) {
		t.Errorf("reusing an out_refund_no: %v, want Conflict", err)
	}
	tests := []struct {
		name string
		c    store.RefundChange
		want pos.Kind
	}{
		{"stale from", moveRefund(func() pos.Refund { x := r; x.State = pos.RefundUnknown; return x }(), pos.RefundSucceeded, t0.Add(time.Hour)), pos.Conflict},
		{"not in the table", moveRefund(r, pos.RefundSubmitting, t0.Add(time.Hour)), pos.Invalid},
		{"created final", createRefund(func() pos.Refund { x := newRefund(p, 1); x.State = pos.RefundSucceeded; return x }()), pos.Invalid},
		{"amount changes", func() store.RefundChange {
			c := moveRefund(r, pos.RefundUnknown, t0.Add(time.Hour))
			c.Refund.Amount.Minor = 99
			return c
		}(), pos.Invalid},
		{"number changes", func() store.RefundChange {
			c := moveRefund(r, pos.RefundUnknown, t0.Add(time.Hour))
			c.Refund.OutRefundNo = "RFX"
			return c
		}(), pos.Invalid},
		{"number too long", createRefund(func() pos.Refund { x := newRefund(p, 1); x.OutRefundNo = strings.Repeat("9", 21); return x }()), pos.Invalid},
		{"done not outstanding", func() store.RefundChange {
			c := moveRefund(r, pos.RefundUnknown, t0.Add(time.Hour))
			c.Done = []int64{42}
			return c
		}(), pos.Conflict},
		{"payment receipt kind", func() store.RefundChange {
			c := moveRefund(r, pos.RefundSucceeded, t0.Add(time.Hour))
			c.Prints = []store.PrintJob{{Kind: store.ReceiptCustomer}}
			return c
		}(), pos.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := db.AppendRefund(ctx, tc.c); !pos.Match(tc.want, err) {
				t.Fatalf("AppendRefund: %v, want %v", err, tc.want)
			}
		})
	}
	if got, _ := db.Refund(ctx, r.ID); got.State != pos.RefundSubmitting {
		t.Errorf("a refused change changed the refund: %+v", got)
	}
}

// TestRefundOutboxAndReceipts: a lost answer enqueues a query; its answer
// completes it and journals the receipts with the final state; pending
// refunds and due queries come back after a reopen.
func TestRefundOutboxAndReceipts(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "j.db")
	db := openAt(t, path, Options{})
	p := succeededPayment(t, db, "pay_outbox", 1000)
	r := newRefund(p, 250)
	mustAppendRefund(t, db, createRefund(r))
	at := r.CreatedAt.Add(time.Second)
	c := moveRefund(r, pos.RefundUnknown, at)
	c.Enqueue = []store.RefundOp{{Kind: store.RefundOpQuery, NotBefore: at.Add(5 * time.Second)}}
	mustAppendRefund(t, db, c)
	r = c.Refund
	db.Close()

	db = openAt(t, path, Options{})
	pending, err := db.PendingRefunds(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != r.ID {
		t.Fatalf("pending after reopen: %v %v", pending, err)
	}
	if due, _ := db.DueRefundOps(ctx, at); len(due) != 0 {
		t.Errorf("query due before its time: %v", due)
	}
	due, err := db.DueRefundOps(ctx, at.Add(5*time.Second))
	want := []store.RefundOp{{ID: 1, RefundID: r.ID, Kind: store.RefundOpQuery, NotBefore: at.Add(5 * time.Second).UTC(), CreatedAt: at.UTC()}}
	if diff := cmp.Diff(want, due); err != nil || diff != "" {
		t.Fatalf("due queries (-want +got):\n%s %v", diff, err)
	}

	done := at.Add(6 * time.Second)
	c = moveRefund(r, pos.RefundSucceeded, done)
	c.Refund.GatewayRefundID = "50000001"
	c.Done = []int64{due[0].ID}
	c.Prints = []store.PrintJob{{Kind: store.ReceiptRefundMerchant}, {Kind: store.ReceiptRefundCustomer}}
	mustAppendRefund(t, db, c)

	if ops, _ := db.RefundOps(ctx, r.ID); len(ops) != 0 {
		t.Errorf("query left after the final answer: %v", ops)
	}
	jobs, err := db.RefundPrintJobs(ctx, r.ID)
	wantJobs := []store.PrintJob{
		{ID: 1, PaymentID: p.ID, RefundID: r.ID, Kind: store.ReceiptRefundMerchant, CreatedAt: done.UTC()},
		{ID: 2, PaymentID: p.ID, RefundID: r.ID, Kind: store.ReceiptRefundCustomer, CreatedAt: done.UTC()},
	}
	if diff := cmp.Diff(wantJobs, jobs); err != nil || diff != "" {
		t.Errorf("refund receipts (-want +got):\n%s %v", diff, err)
	}
	if pj, _ := db.PendingPrints(ctx); len(pj) != 2 {
		t.Errorf("refund receipts are not in the print queue: %v", pj)
	}
	if own, _ := db.PrintJobs(ctx, p.ID); len(own) != 0 {
		t.Errorf("a refund's receipts are listed as the payment's own: %v", own)
	}
	// A reprint names the refund; one naming another payment is refused.
	if _, err := db.EnqueuePrints(ctx, done, []store.PrintJob{{PaymentID: p.ID, RefundID: r.ID, Kind: store.ReceiptRefundCustomer, Reprint: true}}); err != nil {
		t.Errorf("reprint of a refund receipt: %v", err)
	}
	other := succeededPayment(t, db, "pay_other", 100)
	if _, err := db.EnqueuePrints(ctx, done, []store.PrintJob{{PaymentID: other.ID, RefundID: r.ID, Kind: store.ReceiptRefundCustomer}}); !pos.Match(pos.Invalid, err) {
		t.Errorf("refund receipt under another payment: %v, want Invalid", err)
	}
	got, err := db.Refund(ctx, r.ID)
	if err != nil || got.State != pos.RefundSucceeded || got.GatewayRefundID != "50000001" || !got.CreatedAt.Equal(r.CreatedAt) {
		t.Errorf("refund after success: %+v %v", got, err)
	}
	day, _ := db.RefundsBetween(ctx, t0, t0.Add(24*time.Hour))
	if len(day) != 1 {
		t.Errorf("refunds of the day: %v", day)
	}
}

// TestMigration003KeepsPrintJobs: a journal at schema 2 with print jobs is
// migrated; the jobs keep their ids and state, and new ones number on.
func TestMigration003KeepsPrintJobs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	raw, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:2] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 1)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(`INSERT INTO payments VALUES ('pay_old', 'PA1', 'mmsp', 'micropay', 100, 'CNY', 'wechat', '', '', 'succeeded', '', '', '', 0, 1, 1, 1, 1, 0, '')`); err != nil {
		t.Fatal(err)
	}
	for i, kind := range []string{"payment-merchant", "payment-customer", "summary-20260314"} {
		pid := any("pay_old")
		if i == 2 {
			pid = nil
		}
		if _, err := raw.Exec(`INSERT INTO print_jobs (payment_id, kind, reprint, created_at, not_before, attempts, last_error, printed_at) VALUES (?, ?, 0, 5, NULL, 1, 'paper out', NULL)`, pid, kind); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db := openAt(t, path, Options{})
	jobs, err := db.PendingPrints(t.Context())
	if err != nil || len(jobs) != 3 || jobs[2].ID != 3 || jobs[0].Attempts != 1 || jobs[0].LastError != "paper out" {
		t.Fatalf("jobs after migrating: %+v %v", jobs, err)
	}
	added, err := db.EnqueuePrints(t.Context(), t0, []store.PrintJob{{PaymentID: "pay_old", Kind: store.ReceiptCustomer, Reprint: true}})
	if err != nil || added[0].ID != 4 {
		t.Fatalf("a new job after migrating: %+v %v", added, err)
	}
}
