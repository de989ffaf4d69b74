package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

func fileExists(path string) bool { _, err := os.Stat(path); return err == nil }

// t0 is in a non-UTC zone with nanoseconds, so round-trips test both.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CST", 8*3600))

// samplePayment has every field set to a distinct non-zero value.
func samplePayment(id string) pos.Payment {
	return pos.Payment{
		ID:              id,
		OutTradeNo:      "otn_" + id,
		Gateway:         "mmsp",
		Method:          pos.Micropay,
		Amount:          pos.Money{Minor: 1234, Currency: "CNY"},
		Wallet:          pos.WeChatPay,
		CodeMasked:      "13************6789",
		CodeHash:        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		State:           pos.StateSubmitting,
		Reason:          "reason text",
		TransactionID:   "4200001234202603140000000000",
		CodeURL:         pos.Secret("weixin://wxpay/bizpayurl?pr=secret"),
		CancelRequested: true,
		CreatedAt:       t0,
		UpdatedAt:       t0.Add(time.Second),
		SubmittedAt:     t0.Add(2 * time.Second),
		Deadline:        t0.Add(time.Minute),
		Polls:           3,
		Description:     "咖啡 x2",
		Reference:       "till-order-" + id,
		Lane:            "lane-2",
	}
}

// create is the Change that journals p for the first time.
func create(p pos.Payment) store.Change {
	return store.Change{Payment: p, Reason: "created", Detail: "test", At: p.CreatedAt}
}

// move is the Change that moves p from its current state to `to`.
func move(p pos.Payment, to pos.State, at time.Time) store.Change {
	from := p.State
	p.State, p.UpdatedAt = to, at
	return store.Change{Payment: p, From: from, Reason: string(from) + "->" + string(to), At: at}
}

func mustAppend(t testing.TB, db *DB, c store.Change) {
	t.Helper()
	if err := db.Append(context.Background(), c); err != nil {
		t.Fatalf("Append(%s %q->%q): %v", c.Payment.ID, c.From, c.Payment.State, err)
	}
}

func mustPayment(t testing.TB, db *DB, id string) pos.Payment {
	t.Helper()
	p, err := db.Payment(context.Background(), id)
	if err != nil {
		t.Fatalf("Payment(%s): %v", id, err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	full := samplePayment("pay_full")

	zero := samplePayment("pay_zero_times")
	zero.CreatedAt, zero.UpdatedAt, zero.SubmittedAt, zero.Deadline = time.Time{}, time.Time{}, time.Time{}, time.Time{}

	minimal := pos.Payment{ID: "pay_min", Method: pos.Micropay, Amount: pos.Money{Minor: 1, Currency: "JPY"}, State: pos.StateAwaitingCode}

	qr := samplePayment("pay_qr")
	qr.Method, qr.Wallet, qr.CodeMasked, qr.CodeHash = pos.MerchantQR, pos.Alipay, "", ""

	edges := samplePayment("pay_edges")
	edges.CreatedAt = time.Date(1700, 1, 1, 0, 0, 0, 1, time.UTC)
	edges.Deadline = time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC)
	edges.UpdatedAt = time.Unix(0, 0) // the epoch is a time, not "zero"
	edges.Amount = pos.Money{Minor: pos.MaxMinor, Currency: "USD"}

	cases := []pos.Payment{full, zero, minimal, qr, edges}
	for _, s := range pos.States {
		p := samplePayment("pay_state_" + string(s))
		p.State = s
		if s.Final() {
			p.CodeURL = "" // a final payment's QR payload is not kept
		}
		cases = append(cases, p)
	}

	path := filepath.Join(t.TempDir(), "j.db")
	db := openAt(t, path, Options{})
	for _, p := range cases {
		c := create(p)
		c.At = t0
		mustAppend(t, db, c)
	}
	check := func(t *testing.T, db *DB) {
		for _, want := range cases {
			t.Run(want.ID, func(t *testing.T) {
				got, err := db.Payment(t.Context(), want.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Payment (-want +got):\n%s", diff)
				}
				if got.CodeURL.Reveal() != want.CodeURL.Reveal() {
					t.Errorf("CodeURL = %q, want %q", got.CodeURL.Reveal(), want.CodeURL.Reveal())
				}
				for _, tm := range []time.Time{got.CreatedAt, got.UpdatedAt, got.SubmittedAt, got.Deadline} {
					if !tm.IsZero() && tm.Location() != time.UTC {
						t.Errorf("time %v is not in UTC", tm)
					}
				}
				if want.OutTradeNo == "" {
					return
				}
				got, err = db.PaymentByOutTradeNo(t.Context(), want.OutTradeNo)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("PaymentByOutTradeNo (-want +got):\n%s", diff)
				}
			})
		}
	}
	t.Run("same handle", func(t *testing.T) { check(t, db) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("after reopen", func(t *testing.T) { check(t, openAt(t, path, Options{})) })
}

func TestNotFound(t *testing.T) {
	db := openTest(t)
	mustAppend(t, db, create(samplePayment("pay_1")))
	ctx := t.Context()
	if _, err := db.Payment(ctx, "pay_missing"); !pos.Match(pos.NotFound, err) {
		t.Errorf("Payment(missing): %v, want NotFound", err)
	}
	for _, otn := range []string{"otn_missing", ""} {
		if _, err := db.PaymentByOutTradeNo(ctx, otn); !pos.Match(pos.NotFound, err) {
			t.Errorf("PaymentByOutTradeNo(%q): %v, want NotFound", otn, err)
		}
	}
	if err := db.RetryOp(ctx, 999, t0, "x"); !pos.Match(pos.NotFound, err) {
		t.Errorf("RetryOp(missing): %v, want NotFound", err)
	}
	if es, err := db.Events(ctx, "pay_missing"); err != nil || len(es) != 0 {
		t.Errorf("Events(missing) = %v, %v; want none", es, err)
	}
}

func TestManyPaymentsWithoutOutTradeNo(t *testing.T) {
	// Payments awaiting their code have no order number yet; the unique
	// index must not treat "" as a value.
	db := openTest(t)
	for _, id := range []string{"pay_a", "pay_b"} {
		p := samplePayment(id)
		p.OutTradeNo, p.State = "", pos.StateAwaitingCode
		mustAppend(t, db, create(p))
	}
}

// snapshot is everything the journal holds for one payment.
type snapshot struct {
	Payment pos.Payment
	Events  []pos.Event
	Ops     []store.Op
	Due     []store.Op
}

func snap(t *testing.T, db *DB, id string) snapshot {
	t.Helper()
	ctx := t.Context()
	p, err := db.Payment(ctx, id)
	if err != nil && !pos.Match(pos.NotFound, err) {
		t.Fatal(err)
	}
	es, err := db.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := db.Ops(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	due, err := db.DueOps(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{p, es, ops, due}
}

func TestAppendRefusals(t *testing.T) {
	// Each case starts from pay_1 in submitting with one outstanding query
	// op, makes one Change, and expects a kind of error and nothing changed.
	type tc struct {
		name   string
		change func(p pos.Payment, opID int64) store.Change
		kind   pos.Kind
		msg    string // the error mentions this
	}
	at := t0.Add(time.Minute)
	cases := []tc{
		{"wrong From is a conflict", func(p pos.Payment, _ int64) store.Change {
			p.State = pos.StateSucceeded
			return store.Change{Payment: p, From: pos.StateUserPaying, At: at}
		}, pos.Conflict, `"submitting", not "user_paying"`},
		{"illegal transition is invalid", func(p pos.Payment, _ int64) store.Change {
			return move(p, pos.StateAwaitingCode, at)
		}, pos.Invalid, `"submitting" -> "awaiting_code"`},
		{"duplicate create is a conflict", func(p pos.Payment, _ int64) store.Change {
			return create(p)
		}, pos.Conflict, "already exists"},
		{"create with a taken out_trade_no is a conflict", func(p pos.Payment, _ int64) store.Change {
			q := samplePayment("pay_other")
			q.OutTradeNo = p.OutTradeNo
			return create(q)
		}, pos.Conflict, "already used"},
		{"transition of a missing payment", func(p pos.Payment, _ int64) store.Change {
			p.ID = "pay_missing"
			return move(p, pos.StateSucceeded, at)
		}, pos.NotFound, "does not exist"},
		{"unknown state", func(p pos.Payment, _ int64) store.Change {
			return move(p, "paid", at)
		}, pos.Invalid, "unknown state"},
		{"unmasked payment code", func(p pos.Payment, _ int64) store.Change {
			c := move(p, pos.StateSucceeded, at)
			c.Payment.CodeMasked = "134567890123456789"
			return c
		}, pos.Invalid, "full payment code"},
		{"unmasked payment code on create", func(p pos.Payment, _ int64) store.Change {
			q := samplePayment("pay_new")
			q.CodeMasked = "134567890123456789"
			return create(q)
		}, pos.Invalid, "not masked"},
		{"zero amount", func(p pos.Payment, _ int64) store.Change {
			q := samplePayment("pay_new")
			q.Amount.Minor = 0
			return create(q)
		}, pos.Invalid, "amount"},
		{"unknown currency", func(p pos.Payment, _ int64) store.Change {
			q := samplePayment("pay_new")
			q.Amount.Currency = "XXX"
			return create(q)
		}, pos.Invalid, "currency"},
		{"unknown method", func(p pos.Payment, _ int64) store.Change {
			q := samplePayment("pay_new")
			q.Method = "cash"
			return create(q)
		}, pos.Invalid, "method"},
		{"unknown wallet", func(p pos.Payment, _ int64) store.Change {
			q := samplePayment("pay_new")
			q.Wallet = "paypal"
			return create(q)
		}, pos.Invalid, "wallet"},
		{"empty ID", func(p pos.Payment, _ int64) store.Change {
			q := samplePayment("")
			return create(q)
		}, pos.Invalid, "no ID"},
		{"no event time", func(p pos.Payment, _ int64) store.Change {
			return move(p, pos.StateSucceeded, time.Time{})
		}, pos.Invalid, "no At"},
		{"time outside int64 nanoseconds", func(p pos.Payment, _ int64) store.Change {
			c := move(p, pos.StateSucceeded, at)
			c.Payment.Deadline = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
			return c
		}, pos.Invalid, "Deadline"},
		{"out_trade_no cannot change", func(p pos.Payment, _ int64) store.Change {
			c := move(p, pos.StateUserPaying, at)
			c.Payment.OutTradeNo = "otn_new"
			return c
		}, pos.Invalid, "OutTradeNo"},
		{"amount cannot change", func(p pos.Payment, _ int64) store.Change {
			c := move(p, pos.StateUserPaying, at)
			c.Payment.Amount.Minor++
			return c
		}, pos.Invalid, "amount"},
		{"created_at cannot change", func(p pos.Payment, _ int64) store.Change {
			c := move(p, pos.StateUserPaying, at)
			c.Payment.CreatedAt = at
			return c
		}, pos.Invalid, "CreatedAt"},
		{"Done of an op that is not outstanding is a conflict", func(p pos.Payment, opID int64) store.Change {
			c := move(p, pos.StateSucceeded, at)
			c.Done = []int64{opID, opID + 100}
			return c
		}, pos.Conflict, "not outstanding"},
		{"Done listed twice", func(p pos.Payment, opID int64) store.Change {
			c := move(p, pos.StateSucceeded, at)
			c.Done = []int64{opID, opID}
			return c
		}, pos.Invalid, "twice"},
		{"enqueue with an ID", func(p pos.Payment, _ int64) store.Change {
			c := move(p, pos.StateUserPaying, at)
			c.Enqueue = []store.Op{{ID: 7, Kind: store.OpQuery}}
			return c
		}, pos.Invalid, "assigns IDs"},
		{"enqueue for another payment", func(p pos.Payment, _ int64) store.Change {
			c := move(p, pos.StateUserPaying, at)
			c.Enqueue = []store.Op{{PaymentID: "pay_other", Kind: store.OpQuery}}
			return c
		}, pos.Invalid, "pay_other"},
		{"enqueue an unknown kind", func(p pos.Payment, _ int64) store.Change {
			c := move(p, pos.StateUserPaying, at)
			c.Enqueue = []store.Op{{Kind: "refund"}}
			return c
		}, pos.Invalid, "refund"},
	}
	for _, from := range pos.States {
		if !from.Final() {
			continue
		}
		for _, to := range pos.States {
			cases = append(cases, tc{"final " + string(from) + " -> " + string(to), func(p pos.Payment, _ int64) store.Change {
				p.State = to
				return store.Change{Payment: p, From: from, At: at}
			}, pos.Invalid, "not allowed"})
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			p := samplePayment("pay_1")
			c := create(p)
			c.Enqueue = []store.Op{{Kind: store.OpQuery, NotBefore: t0.Add(time.Second)}}
			mustAppend(t, db, c)
			ops, err := db.Ops(t.Context(), p.ID)
			if err != nil || len(ops) != 1 {
				t.Fatalf("Ops = %v, %v", ops, err)
			}
			before := snap(t, db, p.ID)
			other := snap(t, db, "pay_other")

			err = db.Append(t.Context(), tc.change(p, ops[0].ID))
			if !pos.Match(tc.kind, err) {
				t.Fatalf("Append: %v (kind %v), want kind %v", err, pos.KindOf(err), tc.kind)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "134567890123456789") {
				t.Errorf("error echoes the unmasked code: %v", err)
			}
			if diff := cmp.Diff(before, snap(t, db, p.ID)); diff != "" {
				t.Errorf("journal changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(other, snap(t, db, "pay_other")); diff != "" {
				t.Errorf("journal changed for pay_other (-before +after):\n%s", diff)
			}
			for _, id := range []string{"pay_new", "pay_missing", ""} {
				if _, err := db.Payment(t.Context(), id); !pos.Match(pos.NotFound, err) {
					t.Errorf("Payment(%q) after refused Append: %v, want NotFound", id, err)
				}
			}
		})
	}
}

func TestEveryTransitionInTheTableIsAccepted(t *testing.T) {
	db := openTest(t)
	n := 0
	for from, tos := range pos.Transitions() {
		for _, to := range tos {
			n++
			p := samplePayment(fmt.Sprintf("pay_%d", n))
			p.State = from
			mustAppend(t, db, create(p))
			mustAppend(t, db, move(p, to, t0.Add(time.Second)))
			if got := mustPayment(t, db, p.ID).State; got != to {
				t.Errorf("%s -> %s: state is %s", from, to, got)
			}
		}
	}
}

func TestEveryTransitionNotInTheTableIsRefused(t *testing.T) {
	db := openTest(t)
	n := 0
	for _, from := range pos.States {
		for _, to := range pos.States {
			if pos.CanTransition(from, to) {
				continue
			}
			n++
			p := samplePayment(fmt.Sprintf("pay_%d", n))
			p.State = from
			mustAppend(t, db, create(p))
			err := db.Append(t.Context(), move(p, to, t0.Add(time.Second)))
			if !pos.Match(pos.Invalid, err) {
				t.Errorf("%s -> %s: %v, want Invalid", from, to, err)
			}
			if es := must(db.Events(t.Context(), p.ID)); len(es) != 1 {
				t.Errorf("%s -> %s: %d events after a refused change, want 1", from, to, len(es))
			}
			if got := mustPayment(t, db, p.ID); got.State != from {
				t.Errorf("%s -> %s: state became %s", from, to, got.State)
			}
		}
	}
}

func TestHistory(t *testing.T) {
	db := openTest(t)
	p := samplePayment("pay_1")
	p.State = pos.StateAwaitingCode
	p.OutTradeNo = ""
	mustAppend(t, db, create(p))

	p.OutTradeNo = "otn_1" // assigned once, when the code arrives
	steps := []struct {
		to     pos.State
		detail string
	}{
		{pos.StateSubmitting, "mmsp submit"},
		{pos.StateUserPaying, "mmsp 2307 STATUS=USERPAYING"},
		{pos.StateUserPaying, "poll 1 USERPAYING"}, // self-transition
		{pos.StateUserPaying, "poll 2 USERPAYING"},
		{pos.StateSucceeded, "poll 3 SUCCESS"},
	}
	want := []pos.Event{{Seq: 1, PaymentID: "pay_1", At: t0, From: "", To: pos.StateAwaitingCode, Reason: "created", Detail: "test"}}
	for i, s := range steps {
		at := t0.Add(time.Duration(i+1) * time.Second)
		c := move(p, s.to, at)
		c.Detail = s.detail
		if s.to == p.State {
			c.Payment.Polls++
		}
		mustAppend(t, db, c)
		want = append(want, pos.Event{Seq: int64(i + 2), PaymentID: "pay_1", At: at, From: p.State, To: s.to, Reason: c.Reason, Detail: s.detail})
		p = c.Payment
	}
	got, err := db.Events(t.Context(), "pay_1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Events (-want +got):\n%s", diff)
	}
	if p.State.Final() {
		p.CodeURL = "" // not kept once the payment is final
	}
	if diff := cmp.Diff(p, mustPayment(t, db, "pay_1")); diff != "" {
		t.Errorf("snapshot after self-transitions (-want +got):\n%s", diff)
	}
	if _, err := db.w.Exec(`DELETE FROM events`); err == nil {
		t.Error("events could be deleted; the history must be append-only")
	}
	if _, err := db.w.Exec(`UPDATE events SET detail = 'x'`); err == nil {
		t.Error("events could be updated; the history must be append-only")
	}
}

func TestOutbox(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	p := samplePayment("pay_1")
	c := create(p)
	c.Enqueue = []store.Op{
		{Kind: store.OpQuery, NotBefore: t0.Add(5 * time.Second)},
		{Kind: store.OpReverse, NotBefore: t0.Add(60 * time.Second), PaymentID: "pay_1"},
	}
	mustAppend(t, db, c)
	q := samplePayment("pay_2")
	c = create(q)
	c.At = t0.Add(time.Second)
	c.Enqueue = []store.Op{{Kind: store.OpQuery}} // zero NotBefore: due at once
	mustAppend(t, db, c)

	queryOp := store.Op{ID: 1, PaymentID: "pay_1", Kind: store.OpQuery, NotBefore: t0.Add(5 * time.Second), CreatedAt: t0}
	reverseOp := store.Op{ID: 2, PaymentID: "pay_1", Kind: store.OpReverse, NotBefore: t0.Add(60 * time.Second), CreatedAt: t0}
	nowOp := store.Op{ID: 3, PaymentID: "pay_2", Kind: store.OpQuery, CreatedAt: t0.Add(time.Second)}

	due := func(now time.Time) []store.Op {
		t.Helper()
		ops, err := db.DueOps(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		return ops
	}
	for _, tc := range []struct {
		now  time.Time
		want []store.Op
	}{
		{t0, []store.Op{nowOp}},
		{t0.Add(5*time.Second - 1), []store.Op{nowOp}},
		{t0.Add(5 * time.Second), []store.Op{nowOp, queryOp}},
		{t0.Add(time.Hour), []store.Op{nowOp, queryOp, reverseOp}},
	} {
		if diff := cmp.Diff(tc.want, due(tc.now)); diff != "" {
			t.Errorf("DueOps(t0+%v) (-want +got):\n%s", tc.now.Sub(t0), diff)
		}
	}
	ops, err := db.Ops(ctx, "pay_1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Op{queryOp, reverseOp}, ops); diff != "" {
		t.Errorf("Ops(pay_1) (-want +got):\n%s", diff)
	}

	// A failed attempt is recorded and pushes the op back.
	if err := db.RetryOp(ctx, queryOp.ID, t0.Add(10*time.Second), "gateway unreachable"); err != nil {
		t.Fatal(err)
	}
	if err := db.RetryOp(ctx, queryOp.ID, t0.Add(20*time.Second), "gateway timeout"); err != nil {
		t.Fatal(err)
	}
	queryOp.Attempts, queryOp.LastError, queryOp.NotBefore = 2, "gateway timeout", t0.Add(20*time.Second)
	if diff := cmp.Diff([]store.Op{nowOp}, due(t0.Add(19*time.Second))); diff != "" {
		t.Errorf("DueOps before the retry time (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]store.Op{nowOp, queryOp}, due(t0.Add(20*time.Second))); diff != "" {
		t.Errorf("DueOps at the retry time (-want +got):\n%s", diff)
	}

	// The query answers SUCCESS: the state change and the completion of
	// both ops are one write.
	c = move(p, pos.StateSucceeded, t0.Add(21*time.Second))
	c.Done = []int64{queryOp.ID, reverseOp.ID}
	mustAppend(t, db, c)
	if diff := cmp.Diff([]store.Op{nowOp}, due(t0.Add(time.Hour))); diff != "" {
		t.Errorf("DueOps after Done (-want +got):\n%s", diff)
	}
	if ops, err := db.Ops(ctx, "pay_1"); err != nil || len(ops) != 0 {
		t.Errorf("Ops(pay_1) after Done = %v, %v; want none", ops, err)
	}
	if err := db.RetryOp(ctx, queryOp.ID, t0, "late"); !pos.Match(pos.NotFound, err) {
		t.Errorf("RetryOp of a done op: %v, want NotFound", err)
	}

	// IDs are never reused, so a stale Done cannot complete a newer op.
	c = move(q, pos.StateUserPaying, t0.Add(30*time.Second))
	c.Done = []int64{nowOp.ID}
	c.Enqueue = []store.Op{{Kind: store.OpQuery, NotBefore: t0.Add(35 * time.Second)}}
	mustAppend(t, db, c)
	ops, err = db.Ops(ctx, "pay_2")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].ID <= reverseOp.ID || ops[0].ID == nowOp.ID {
		t.Errorf("new op got ID %v; want a fresh ID above %d", ops, reverseOp.ID)
	}
}

func TestAtomicity(t *testing.T) {
	// A trigger makes one statement of Append fail after the snapshot has
	// been written in the same transaction; everything must roll back.
	for _, tc := range []struct {
		name    string
		trigger string
	}{
		{"event insert fails", `CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.reason = 'boom' BEGIN SELECT RAISE(ABORT, 'forced failure'); END`},
		{"outbox insert fails", `CREATE TRIGGER boom BEFORE INSERT ON outbox WHEN NEW.kind = 'close' BEGIN SELECT RAISE(ABORT, 'forced failure'); END`},
		{"outbox delete fails", `CREATE TRIGGER boom BEFORE DELETE ON outbox BEGIN SELECT RAISE(ABORT, 'forced failure'); END`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			p := samplePayment("pay_1")
			c := create(p)
			c.Enqueue = []store.Op{{Kind: store.OpQuery}}
			mustAppend(t, db, c)
			if _, err := db.w.Exec(tc.trigger); err != nil {
				t.Fatal(err)
			}
			before := snap(t, db, p.ID)

			c = move(p, pos.StateReversing, t0.Add(time.Minute))
			c.Reason = "boom"
			c.Payment.Polls = 42
			c.Done = []int64{before.Ops[0].ID}
			c.Enqueue = []store.Op{{Kind: store.OpReverse}, {Kind: store.OpClose}}
			err := db.Append(t.Context(), c)
			if err == nil || !strings.Contains(err.Error(), "forced failure") {
				t.Fatalf("Append: %v, want the forced failure", err)
			}
			if diff := cmp.Diff(before, snap(t, db, p.ID)); diff != "" {
				t.Errorf("a failed Append left changes behind (-before +after):\n%s", diff)
			}
			// The writer connection is usable afterwards.
			if _, err := db.w.Exec(`DROP TRIGGER boom`); err != nil {
				t.Fatal(err)
			}
			mustAppend(t, db, c)
		})
	}
}

func TestCancelledContext(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := db.Append(ctx, create(samplePayment("pay_1")))
	if !pos.Match(pos.Unavailable, err) || !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context: %v, want Unavailable wrapping context.Canceled", err)
	}
	if _, err := db.Payment(t.Context(), "pay_1"); !pos.Match(pos.NotFound, err) {
		t.Errorf("payment journaled despite the cancelled context: %v", err)
	}
}

func ids(ps []pos.Payment) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestPendingAndRecent(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	// Created out of order in time; two share a CreatedAt, so journal order
	// breaks the tie.
	for _, p := range []struct {
		id    string
		at    time.Duration
		state pos.State
	}{
		{"pay_c", 3, pos.StateUserPaying},
		{"pay_a", 1, pos.StateSubmitting},
		{"pay_done", 2, pos.StateSucceeded},
		{"pay_d1", 4, pos.StateUnknown},
		{"pay_d2", 4, pos.StateReversing},
		{"pay_b", 2, pos.StateAwaitingCode},
		{"pay_failed", 5, pos.StateFailed},
		{"pay_rev", 0, pos.StateReversed},
	} {
		q := samplePayment(p.id)
		q.CreatedAt, q.State = t0.Add(p.at*time.Second), p.state
		mustAppend(t, db, create(q))
	}
	pending, err := db.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"pay_a", "pay_b", "pay_c", "pay_d1", "pay_d2"}, ids(pending)); diff != "" {
		t.Errorf("Pending (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{1, []string{"pay_failed"}},
		{3, []string{"pay_failed", "pay_d2", "pay_d1"}},
		{100, []string{"pay_failed", "pay_d2", "pay_d1", "pay_c", "pay_b", "pay_done", "pay_a", "pay_rev"}},
	} {
		got, err := db.Recent(ctx, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("Recent(%d) (-want +got):\n%s", tc.limit, diff)
		}
	}
	if _, err := db.Recent(ctx, 0); !pos.Match(pos.Invalid, err) {
		t.Errorf("Recent(0): %v, want Invalid", err)
	}

	// Finishing a payment removes it from Pending.
	a := mustPayment(t, db, "pay_a")
	mustAppend(t, db, move(a, pos.StateSucceeded, t0.Add(time.Minute)))
	pending, err = db.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"pay_b", "pay_c", "pay_d1", "pay_d2"}, ids(pending)); diff != "" {
		t.Errorf("Pending after a success (-want +got):\n%s", diff)
	}
}

func TestPendingMatchesTheStates(t *testing.T) {
	// pendingStates is written out in SQL; it must be exactly the non-final
	// states of pos, and the query must use the partial index.
	db := openTest(t)
	var want []string
	for i, s := range pos.States {
		p := samplePayment("pay_" + string(s))
		p.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		p.State = s
		mustAppend(t, db, create(p))
		if !s.Final() {
			want = append(want, p.ID)
		}
	}
	got, err := db.Pending(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Errorf("Pending (-want +got):\n%s", diff)
	}

	rows, err := db.r.Query(`EXPLAIN QUERY PLAN ` + selectPayment + ` WHERE state IN ` + pendingStates + ` ORDER BY created_at, rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if !slices.ContainsFunc(plan, func(s string) bool { return strings.Contains(s, "payments_pending") }) {
		t.Errorf("Pending does not use the payments_pending index: %q", plan)
	}
}

func TestConcurrentAppends(t *testing.T) {
	// Goroutines on two handles (two writer connections, as two processes
	// would have) race to move the same payment out of each state in turn.
	// Exactly one wins each round; the others see Conflict.
	path := filepath.Join(t.TempDir(), "j.db")
	dbs := []*DB{openAt(t, path, Options{}), openAt(t, path, Options{})}
	p := samplePayment("pay_1")
	mustAppend(t, dbs[0], create(p))

	const racers = 16
	rounds := []pos.State{pos.StateUserPaying, pos.StateUnknown, pos.StateReversing, pos.StateReversed}
	for round, to := range rounds {
		from := p.State
		errs := make(chan error, racers)
		start := make(chan struct{})
		for i := range racers {
			go func() {
				<-start
				c := move(p, to, t0.Add(time.Duration(round+1)*time.Second))
				c.Reason = fmt.Sprintf("racer %d", i)
				c.Enqueue = []store.Op{{Kind: store.OpQuery}}
				errs <- dbs[i%2].Append(context.Background(), c)
			}()
		}
		close(start)
		wins := 0
		for range racers {
			switch err := <-errs; {
			case err == nil:
				wins++
			case !pos.Match(pos.Conflict, err):
				t.Errorf("round %s->%s: unexpected error %v", from, to, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %s->%s: %d winners, want exactly 1", from, to, wins)
		}
		p = mustPayment(t, dbs[1], p.ID)
		if p.State != to {
			t.Fatalf("after round %d state is %s, want %s", round, p.State, to)
		}
	}
	es, err := dbs[0].Events(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1+len(rounds) {
		t.Errorf("%d events, want %d (one per winner)", len(es), 1+len(rounds))
	}
	ops, err := dbs[0].Ops(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != len(rounds) {
		t.Errorf("%d ops, want %d (one per winner)", len(ops), len(rounds))
	}
}

func TestAppendDoesNotWaitForReaders(t *testing.T) {
	// An open read (an iteration in progress) must not block a write: WAL
	// lets readers keep their snapshot while the writer commits.
	db := openTest(t)
	mustAppend(t, db, create(samplePayment("pay_1")))
	rows, err := db.r.QueryContext(t.Context(), selectPayment)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal("no row")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := db.Append(ctx, create(samplePayment("pay_2"))); err != nil {
		t.Fatalf("Append during a read: %v", err)
	}
}

func TestErrorsCarryOp(t *testing.T) {
	db := openTest(t)
	_, err := db.Payment(t.Context(), "pay_missing")
	var pe *pos.Error
	if !errors.As(err, &pe) || pe.Op != "sqlite.Payment" {
		t.Errorf("error %#v does not name its op", err)
	}
	if diff := cmp.Diff([]pos.Payment{}, must(db.Pending(t.Context())), cmpopts.EquateEmpty()); diff != "" {
		t.Error(diff)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The QR payload is journaled while the payment is open (a restart shows it
// again) and forgotten once the payment is final.
func TestCodeURLForgottenWhenFinal(t *testing.T) {
	db := openTest(t)
	p := samplePayment("pay_qr")
	p.Method = pos.MerchantQR
	p.CodeURL = pos.Secret("weixin://wxpay/bizpayurl?pr=secret123")
	mustAppend(t, db, create(p))
	if got := mustPayment(t, db, p.ID).CodeURL.Reveal(); got != "weixin://wxpay/bizpayurl?pr=secret123" {
		t.Fatalf("open payment lost its QR payload: %q", got)
	}
	mustAppend(t, db, move(mustPayment(t, db, p.ID), pos.StateFailed, t0.Add(time.Minute)))
	if got := mustPayment(t, db, p.ID).CodeURL.Reveal(); got != "" {
		t.Errorf("final payment still holds its QR payload %q", got)
	}
}
