package flows_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/mmsp/mmspsim"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

type setClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *setClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// syncBuffer is a log sink safe for the runner's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// outboxRig is a journal with runners that are not running, so the
// outbox's rows stay as the test journals them.
type outboxRig struct {
	db      *sqlite.DB
	clock   *setClock
	outbox  *flows.Outbox
	runner  *flows.Runner
	logs    *syncBuffer
	created time.Time
}

func newOutboxRig(t *testing.T) *outboxRig {
	t.Helper()
	so := mmspsim.DemoOptions()
	so.LedgerPath = filepath.Join(t.TempDir(), "ledger.json")
	simulator, err := mmspsim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(simulator)
	t.Cleanup(srv.Close)
	g, err := mmsp.New(mmspOptions(so, srv.URL, "http://127.0.0.1:1/notify/mmsp"), gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clk := &setClock{t: created.Add(10 * time.Minute)}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	gws := map[string]gateways.Gateway{"mmsp": g}
	r, err := flows.NewRunner(flows.Options{Journal: db, Gateways: gws, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := flows.NewRefundRunner(flows.RefundOptions{Journal: db, Gateways: gws, Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := flows.NewOutbox(flows.OutboxOptions{Payments: r, Refunds: rr, AlertAfter: 5 * time.Minute, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return &outboxRig{db: db, clock: clk, outbox: ob, runner: r, logs: logs, created: created}
}

// stuck journals a payment in state with one outbox op of kind, not due
// for an hour, that failed attempts times.
func (o *outboxRig) stuck(t *testing.T, id string, state pos.State, kind store.OpKind, attempts int, created time.Time) {
	t.Helper()
	ctx := context.Background()
	p := pos.Payment{ID: id, OutTradeNo: "OT" + id, Gateway: "mmsp", Method: pos.Micropay, Amount: pos.Money{Minor: 1291, Currency: "CNY"},
		Wallet: pos.WeChatPay, State: pos.StateSubmitting, CreatedAt: created, UpdatedAt: created, SubmittedAt: created}
	if err := o.db.Append(ctx, store.Change{Payment: p, Reason: "created", At: created}); err != nil {
		t.Fatal(err)
	}
	from := p.State
	p.State = state
	later := o.clock.Now().Add(time.Hour)
	if err := o.db.Append(ctx, store.Change{Payment: p, From: from, Reason: "stuck", At: created, Enqueue: []store.Op{{Kind: kind, NotBefore: later}}}); err != nil {
		t.Fatal(err)
	}
	ops, _ := o.db.Ops(ctx, id)
	for range attempts {
		if err := o.db.RetryOp(ctx, ops[0].ID, later, "reverse: error: connection refused"); err != nil {
			t.Fatal(err)
		}
	}
}

func (o *outboxRig) item(t *testing.T, paymentID string) flows.OutboxItem {
	t.Helper()
	items, err := o.outbox.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.PaymentID == paymentID && it.RefundID == "" {
			return it
		}
	}
	t.Fatalf("no outbox item for %s in %+v", paymentID, items)
	return flows.OutboxItem{}
}

// The outbox lists each owed operation with its payment, kind, attempts,
// last error and next try; one owed longer than alert_after is flagged and
// logged at ERROR once; a young one is not.
func TestOutboxListAndAlert(t *testing.T) {
	o := newOutboxRig(t)
	o.stuck(t, "pay_old", pos.StateReversing, store.OpReverse, 3, o.created)
	o.stuck(t, "pay_new", pos.StateUnknown, store.OpQuery, 0, o.clock.Now().Add(-time.Minute))
	old := o.item(t, "pay_old")
	if old.Kind != "reverse" || old.Attempts != 3 || old.LastError != "reverse: error: connection refused" ||
		!old.NextTry.Equal(o.clock.Now().Add(time.Hour)) || old.State != "reversing" || old.OutTradeNo != "OTpay_old" || !old.Alert {
		t.Errorf("old item = %+v", old)
	}
	if young := o.item(t, "pay_new"); young.Alert || young.Kind != "query" {
		t.Errorf("young item = %+v (want query, not flagged)", young)
	}
	o.item(t, "pay_old")
	if n := strings.Count(o.logs.String(), "level=ERROR"); n != 1 || !strings.Contains(o.logs.String(), "payment=pay_old") {
		t.Errorf("want one ERROR line for pay_old, got %d:\n%s", n, o.logs)
	}
	if n, err := o.outbox.Overdue(context.Background()); err != nil || n != 1 {
		t.Errorf("Overdue = %d, %v; want 1", n, err)
	}
}

// Retry makes an item due now without counting an attempt.
func TestOutboxRetryNow(t *testing.T) {
	ctx := context.Background()
	o := newOutboxRig(t)
	o.stuck(t, "pay_r", pos.StateReversing, store.OpReverse, 2, o.created)
	it := o.item(t, "pay_r")
	if due, _ := o.db.DueOps(ctx, o.clock.Now()); len(due) != 0 {
		t.Fatalf("due before retry: %+v", due)
	}
	if _, err := o.outbox.Retry(ctx, it.ID); err != nil {
		t.Fatal(err)
	}
	due, err := o.db.DueOps(ctx, o.clock.Now())
	if err != nil || len(due) != 1 || due[0].PaymentID != "pay_r" || due[0].Attempts != 2 {
		t.Fatalf("due after retry = %+v, %v", due, err)
	}
	for _, id := range []string{"op_999", "nonsense", "op_x", "rop_0"} {
		if _, err := o.outbox.Retry(ctx, id); !pos.Match(pos.NotFound, err) {
			t.Errorf("Retry(%q) = %v, want NotFound", id, err)
		}
	}
}

// Resolving by hand moves the payment only along the transition table,
// is journaled as an event with who and why, completes the payment's
// operations, and cannot be done twice; a refusal changes nothing.
func TestOutboxResolvePayment(t *testing.T) {
	ctx := context.Background()
	o := newOutboxRig(t)
	o.stuck(t, "pay_u", pos.StateUnknown, store.OpQuery, 1, o.created)
	it := o.item(t, "pay_u")
	before, _ := o.db.Events(ctx, "pay_u")
	for _, tc := range []struct {
		res  flows.Resolution
		kind pos.Kind
	}{
		{flows.Resolution{Outcome: "reversed", Reason: "acquirer says so", By: "ops-ana"}, pos.Invalid},    // unknown -> reversed is not in the table
		{flows.Resolution{Outcome: "user_paying", Reason: "acquirer says so", By: "ops-ana"}, pos.Invalid}, // not final
		{flows.Resolution{Outcome: "bogus", Reason: "x", By: "ops-ana"}, pos.Invalid},
		{flows.Resolution{Outcome: "failed", Reason: "", By: "ops-ana"}, pos.Invalid},
		{flows.Resolution{Outcome: "failed", Reason: "confirmed", By: ""}, pos.Invalid},
		{flows.Resolution{Outcome: "failed", Reason: "line\nbreak", By: "ops"}, pos.Invalid},
	} {
		if _, err := o.outbox.Resolve(ctx, it.ID, tc.res); !pos.Match(tc.kind, err) {
			t.Errorf("Resolve(%+v) = %v, want %v", tc.res, err, tc.kind)
		}
	}
	if p, _ := o.db.Payment(ctx, "pay_u"); p.State != pos.StateUnknown {
		t.Fatalf("a refused resolution changed the payment: %s", p.State)
	}
	if evs, _ := o.db.Events(ctx, "pay_u"); len(evs) != len(before) {
		t.Fatalf("a refused resolution journaled an event")
	}
	res, err := o.outbox.Resolve(ctx, it.ID, flows.Resolution{Outcome: "failed", Reason: "confirmed with the acquirer: not charged", By: "ops-ana"})
	if err != nil || res.Payment == nil || res.Payment.State != pos.StateFailed {
		t.Fatalf("Resolve = %+v, %v", res, err)
	}
	p, _ := o.db.Payment(ctx, "pay_u")
	evs, _ := o.db.Events(ctx, "pay_u")
	last := evs[len(evs)-1]
	if p.State != pos.StateFailed || last.From != pos.StateUnknown || last.To != pos.StateFailed ||
		!strings.Contains(last.Reason, "confirmed with the acquirer: not charged") || !strings.Contains(last.Detail, "ops-ana") {
		t.Errorf("payment %s, last event %+v", p.State, last)
	}
	if ops, _ := o.db.Ops(ctx, "pay_u"); len(ops) != 0 {
		t.Errorf("ops left after resolving: %+v", ops)
	}
	if _, err := o.outbox.Resolve(ctx, it.ID, flows.Resolution{Outcome: "failed", Reason: "again", By: "ops-ana"}); !pos.Match(pos.NotFound, err) {
		t.Errorf("second Resolve = %v, want NotFound", err)
	}
	if !strings.Contains(o.logs.String(), "resolved by hand") {
		t.Errorf("resolution not logged:\n%s", o.logs)
	}
}

// A refund's query is listed and resolved the same way, along the refund
// transition table.
func TestOutboxResolveRefund(t *testing.T) {
	ctx := context.Background()
	o := newOutboxRig(t)
	o.stuck(t, "pay_s", pos.StateUnknown, store.OpQuery, 0, o.created)
	p, _ := o.db.Payment(ctx, "pay_s")
	ops, _ := o.db.Ops(ctx, "pay_s")
	next := p
	next.State = pos.StateSucceeded
	if err := o.db.Append(ctx, store.Change{Payment: next, From: p.State, Reason: "paid", At: o.created, Done: []int64{ops[0].ID}}); err != nil {
		t.Fatal(err)
	}
	r := pos.Refund{ID: "ref_1", PaymentID: "pay_s", OutRefundNo: "RF0001", Amount: pos.Money{Minor: 500, Currency: "CNY"}, Reason: "returned",
		State: pos.RefundSubmitting, CreatedAt: o.created, UpdatedAt: o.created, SubmittedAt: o.created}
	if err := o.db.AppendRefund(ctx, store.RefundChange{Refund: r, Reason: "refund requested", At: o.created}); err != nil {
		t.Fatal(err)
	}
	from := r.State
	r.State, r.Queries, r.Outcome = pos.RefundUnknown, 4, "query: error: timeout"
	if err := o.db.AppendRefund(ctx, store.RefundChange{Refund: r, From: from, Reason: "lost", At: o.created,
		Enqueue: []store.RefundOp{{Kind: store.RefundOpQuery, NotBefore: o.clock.Now().Add(time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	items, err := o.outbox.List(ctx)
	if err != nil || len(items) != 1 {
		t.Fatalf("List = %+v, %v", items, err)
	}
	it := items[0]
	if it.RefundID != "ref_1" || it.Kind != "refund_query" || it.Attempts != 4 || it.LastError != "query: error: timeout" || !it.Alert || !strings.HasPrefix(it.ID, "rop_") {
		t.Errorf("refund item = %+v", it)
	}
	if _, err := o.outbox.Resolve(ctx, it.ID, flows.Resolution{Outcome: "processing", Reason: "x", By: "ops"}); !pos.Match(pos.Invalid, err) {
		t.Errorf("resolve as processing = %v, want Invalid", err)
	}
	res, err := o.outbox.Resolve(ctx, it.ID, flows.Resolution{Outcome: "succeeded", Reason: "acquirer's portal shows it refunded", By: "ops-li"})
	if err != nil || res.Refund == nil || res.Refund.State != pos.RefundSucceeded {
		t.Fatalf("Resolve = %+v, %v", res, err)
	}
	evs, _ := o.db.RefundEvents(ctx, "ref_1")
	last := evs[len(evs)-1]
	if last.To != pos.RefundSucceeded || !strings.Contains(last.Reason, "portal shows it refunded") || !strings.Contains(last.Detail, "ops-li") {
		t.Errorf("last refund event %+v", last)
	}
	if items, _ := o.outbox.List(ctx); len(items) != 0 {
		t.Errorf("items left: %+v", items)
	}
}
