package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// paymentCycle is what the journal sees of one payment with receipts: the
// create, the final state with its print jobs, the runner's and the
// spool's reads, and both receipts marked printed.
func paymentCycle(t *testing.T, db *DB, id string) {
	t.Helper()
	ctx := context.Background()
	p := samplePayment(id)
	c := create(p)
	c.Enqueue = []store.Op{{Kind: store.OpQuery, NotBefore: t0}}
	mustAppend(t, db, c)
	ops, err := db.Ops(ctx, id)
	if err != nil || len(ops) != 1 {
		t.Fatalf("Ops: %v %v", ops, err)
	}
	if _, err := db.DueOps(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f := finalWithReceipts(mustPayment(t, db, id), t0.Add(time.Minute))
	f.Done = []int64{ops[0].ID}
	mustAppend(t, db, f)
	jobs, err := db.PendingPrints(ctx)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("PendingPrints: %v %v", jobs, err)
	}
	for _, j := range jobs {
		if err := db.MarkPrinted(ctx, j.ID, t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStatementsPreparedOnce: once a payment's cycle has run, another one
// prepares no statement and runs none unprepared.
func TestStatementsPreparedOnce(t *testing.T) {
	db := openAt(t, t.TempDir()+"/j.db", Options{MaxReaders: 1})
	paymentCycle(t, db, "pay_warm")
	paymentCycle(t, db, "pay_warm2") // a statement first met in a transaction is prepared before the next write
	prep, unprep := db.Prepares()
	if prep == 0 {
		t.Fatal("no statement was prepared")
	}
	for i := range 3 {
		paymentCycle(t, db, fmt.Sprintf("pay_%d", i))
	}
	p2, u2 := db.Prepares()
	if p2 != prep || u2 != unprep {
		t.Errorf("three more payments prepared %d statements and ran %d unprepared, want 0 and 0", p2-prep, u2-unprep)
	}
}

// TestReceiptMarksAreLazy: the print marks are committed without an fsync
// of their own (lazy), every other write durably, and the connection is
// back to synchronous=FULL after each mark; the marks are there after a
// reopen.
func TestReceiptMarksAreLazy(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/j.db"
	db := openAt(t, path, Options{})
	before := db.Commits()
	paymentCycle(t, db, "pay_lazy")
	got := db.Commits()
	if d, l := got.Durable-before.Durable, got.Lazy-before.Lazy; d != 2 || l != 2 {
		t.Errorf("a payment with two receipts: %d durable and %d lazy commits, want 2 and 2", d, l)
	}
	var sync int
	if err := db.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if sync != 2 {
		t.Errorf("writer's synchronous is %d after a mark, want 2 (FULL)", sync)
	}
	// A mark refused (printed already) leaves it FULL too.
	jobs, err := db.PrintJobs(ctx, "pay_lazy")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MarkPrinted(ctx, jobs[0].ID, t0); !pos.Match(pos.Conflict, err) {
		t.Errorf("second mark: %v, want a conflict", err)
	}
	if err := db.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous %d (%v) after a refused mark, want 2", sync, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, path, Options{})
	pending, err := db.PendingPrints(ctx)
	if err != nil || len(pending) != 0 {
		t.Errorf("after reopening: pending prints %v (%v), want none", pending, err)
	}
}
