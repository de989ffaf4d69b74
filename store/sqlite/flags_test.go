package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// TestFlagOnFinalPayment: a final payment takes a flag-only self-transition
// (a late charge, an alert) and nothing else; the flags are counted.
func TestFlagOnFinalPayment(t *testing.T) {
	ctx := t.Context()
	db := openAt(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	p := samplePayment("pay_late")
	p.TransactionID = ""
	mustAppend(t, db, create(p))
	mustAppend(t, db, move(p, pos.StateFailed, t0.Add(time.Second)))
	p = mustPayment(t, db, p.ID)

	// Without a flag a final state cannot move, not even to itself.
	if err := db.Append(ctx, store.Change{Payment: p, From: pos.StateFailed, Reason: "again", At: t0.Add(2 * time.Second)}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("unflagged final self-transition: %v, want Invalid", err)
	}
	// A flag may not smuggle in another change.
	bad := p
	bad.Reason = "rewritten"
	bad.ChargedLate = true
	if err := db.Append(ctx, store.Change{Payment: bad, From: pos.StateFailed, Flag: pos.FlagChargedLate, Reason: "x", At: t0.Add(2 * time.Second)}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("flag with a rewritten reason: %v, want Invalid", err)
	}
	if err := db.Append(ctx, store.Change{Payment: p, From: pos.StateFailed, Flag: "bogus", Reason: "x", At: t0.Add(2 * time.Second)}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("unknown flag: %v, want Invalid", err)
	}
	late := p
	late.ChargedLate, late.Alert, late.TransactionID, late.UpdatedAt = true, "paid after the till gave up", "TX9", t0.Add(3*time.Second)
	mustAppend(t, db, store.Change{Payment: late, From: pos.StateFailed, Flag: pos.FlagChargedLate, Reason: "charged after the till gave up", At: t0.Add(3 * time.Second)})
	got := mustPayment(t, db, p.ID)
	if !got.ChargedLate || got.State != pos.StateFailed || got.Alert == "" || got.TransactionID != "TX9" {
		t.Fatalf("after the flag: %+v", got)
	}
	// The flag cannot be cleared.
	clear := got
	clear.ChargedLate = false
	if err := db.Append(ctx, store.Change{Payment: clear, From: pos.StateFailed, Flag: pos.FlagAlert, Reason: "alert", At: t0.Add(4 * time.Second)}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("clearing ChargedLate: %v, want Invalid", err)
	}
	if got := mustPayment(t, db, p.ID); !got.ChargedLate {
		t.Fatal("ChargedLate was cleared by a later flag")
	}

	// A pending payment's flagged event rides on an ordinary change.
	q := samplePayment("pay_mismatch")
	mustAppend(t, db, create(q))
	c := move(q, pos.StateUnknown, t0.Add(time.Second))
	c.Flag = pos.FlagMismatch
	mustAppend(t, db, c)
	evs, err := db.Events(ctx, q.ID)
	if err != nil || len(evs) != 2 || evs[1].Flag != pos.FlagMismatch || evs[0].Flag != "" {
		t.Fatalf("events: %+v %v", evs, err)
	}

	// A flagged refund event counts too.
	s := succeededPayment(t, db, "pay_ok", 1000)
	r := newRefund(s, 100)
	mustAppendRefund(t, db, createRefund(r))
	rc := moveRefund(r, pos.RefundAttention, t0.Add(2*time.Minute))
	rc.Flag = pos.FlagAlert
	rc.Refund.Alert = "refund moved offline"
	mustAppendRefund(t, db, rc)
	if got, _ := db.Refund(ctx, r.ID); got.State != pos.RefundAttention || got.Alert == "" {
		t.Fatalf("refund after the alert: %+v", got)
	}
	if evs, _ := db.RefundEvents(ctx, r.ID); len(evs) != 2 || evs[1].Flag != pos.FlagAlert {
		t.Fatalf("refund events: %+v", evs)
	}

	counts, err := db.FlagCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[pos.Flag]int{pos.FlagChargedLate: 1, pos.FlagAlert: 1, pos.FlagMismatch: 1} // the refused alert is not counted
	for f, n := range want {
		if counts[f] != n {
			t.Errorf("FlagCounts[%s] = %d, want %d (all: %v)", f, counts[f], n, counts)
		}
	}
}

// TestRefundOfChargedLatePayment: a payment flagged ChargedLate may be
// refunded, for at most its amount; an unflagged failed one may not, and a
// refund needing attention keeps holding its amount.
func TestRefundOfChargedLatePayment(t *testing.T) {
	ctx := t.Context()
	db := openAt(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	for _, final := range []pos.State{pos.StateFailed, pos.StateReversed} {
		p := samplePayment("pay_" + string(final))
		p.Amount.Minor = 500
		mustAppend(t, db, create(p))
		if final == pos.StateReversed {
			mustAppend(t, db, move(p, pos.StateReversing, t0.Add(time.Second)))
			p.State = pos.StateReversing
		}
		mustAppend(t, db, move(p, final, t0.Add(2*time.Second)))
		p = mustPayment(t, db, p.ID)
		if err := db.AppendRefund(ctx, createRefund(newRefund(p, 500))); !pos.Match(pos.Conflict, err) {
			t.Fatalf("%s: refund of an unflagged payment: %v, want Conflict", final, err)
		}
		late := p
		late.ChargedLate = true
		mustAppend(t, db, store.Change{Payment: late, From: final, Flag: pos.FlagChargedLate, Reason: "late", At: t0.Add(3 * time.Second)})
		p = mustPayment(t, db, p.ID)
		if err := db.AppendRefund(ctx, createRefund(newRefund(p, 501))); !pos.Match(pos.Conflict, err) {
			t.Fatalf("%s: refund above the amount: %v, want Conflict", final, err)
		}
		r := newRefund(p, 300)
		mustAppendRefund(t, db, createRefund(r))
		mustAppendRefund(t, db, moveRefund(r, pos.RefundAttention, t0.Add(3*time.Minute)))
		// The refund needing attention still holds its 300.
		if err := db.AppendRefund(ctx, createRefund(newRefund(p, 201))); !pos.Match(pos.Conflict, err) {
			t.Fatalf("%s: refund over an attention refund's held amount: %v, want Conflict", final, err)
		}
		mustAppendRefund(t, db, createRefund(newRefund(p, 200)))
	}
}

// TestMigration004KeepsRefunds: a journal at schema 3 with refunds, their
// events, outbox rows and receipts is migrated with every row and
// reference intact; the new columns take their defaults.
func TestMigration004KeepsRefunds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	raw, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`PRAGMA foreign_keys = ON`)
	exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`)
	for _, m := range ms[:3] {
		exec(m.sql)
		exec(`INSERT INTO schema_migrations VALUES (?, ?, 1)`, m.version, m.name)
	}
	exec(`INSERT INTO payments VALUES ('pay_old', 'PA1', 'mmsp', 'micropay', 100, 'CNY', 'wechat', '', '', 'succeeded', '', '', '', 0, 1, 1, 1, 1, 0, '')`)
	exec(`INSERT INTO events (payment_id, at, from_state, to_state, reason, detail) VALUES ('pay_old', 1, '', 'succeeded', 'r', 'd')`)
	exec(`INSERT INTO refunds VALUES ('ref_old', 'pay_old', 'RF1', 60, 'CNY', 'why', 'processing', 'o', 'G1', 2, 2, 2, 1)`)
	exec(`INSERT INTO refund_events (refund_id, at, from_state, to_state, reason, detail) VALUES ('ref_old', 2, '', 'submitting', 'r', 'd')`)
	exec(`INSERT INTO refund_outbox (refund_id, kind, not_before, created_at) VALUES ('ref_old', 'query', 3, 2)`)
	exec(`INSERT INTO print_jobs (payment_id, refund_id, kind, reprint, created_at, attempts, last_error) VALUES ('pay_old', 'ref_old', 'refund-customer', 0, 2, 0, '')`)
	raw.Close()

	db := openAt(t, path, Options{})
	ctx := t.Context()
	r, err := db.Refund(ctx, "ref_old")
	if err != nil || r.State != pos.RefundProcessing || r.Amount.Minor != 60 || r.Queries != 1 || r.Alert != "" || r.Resends != 0 {
		t.Fatalf("refund after migrating: %+v %v", r, err)
	}
	if evs, err := db.RefundEvents(ctx, "ref_old"); err != nil || len(evs) != 1 {
		t.Fatalf("refund events after migrating: %+v %v", evs, err)
	}
	if ops, err := db.RefundOps(ctx, "ref_old"); err != nil || len(ops) != 1 {
		t.Fatalf("refund ops after migrating: %+v %v", ops, err)
	}
	if jobs, err := db.RefundPrintJobs(ctx, "ref_old"); err != nil || len(jobs) != 1 {
		t.Fatalf("refund receipts after migrating: %+v %v", jobs, err)
	}
	p, err := db.Payment(ctx, "pay_old")
	if err != nil || p.ChargedLate || p.Alert != "" || !p.AnsweredAt.IsZero() {
		t.Fatalf("payment after migrating: %+v %v", p, err)
	}
	// Foreign keys are on again after the migration.
	var fk int
	if err := db.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys after migrating = %d, %v", fk, err)
	}
	if _, err := db.w.Exec(`INSERT INTO refund_outbox (refund_id, kind, not_before, created_at) VALUES ('ref_nobody', 'query', 3, 2)`); err == nil {
		t.Fatal("a refund op for a missing refund was accepted: foreign keys are off")
	}
	// Refund events stay append-only.
	if _, err := db.w.Exec(`DELETE FROM refund_events`); err == nil {
		t.Fatal("refund events could be deleted after migrating")
	}
}
