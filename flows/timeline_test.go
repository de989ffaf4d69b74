package flows_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// steppingClock is a flows.SteadyClock whose wall clock can be set apart
// from its steady one, as NTP or an operator's date command would.
type steppingClock struct {
	mu     sync.Mutex
	wall   time.Time
	steady time.Duration
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *steppingClock) Steady() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.steady
}

// advance lets d pass on both clocks.
func (c *steppingClock) advance(d time.Duration) {
	c.mu.Lock()
	c.wall, c.steady = c.wall.Add(d), c.steady+d
	c.mu.Unlock()
}

// step sets the wall clock by d; no time passes.
func (c *steppingClock) step(d time.Duration) {
	c.mu.Lock()
	c.wall = c.wall.Add(d)
	c.mu.Unlock()
}

// countingGateway is a micropay gateway whose customer never confirms: it
// counts the queries and reverses it is asked for.
type countingGateway struct {
	queries, reverses atomic.Int32
}

func (*countingGateway) Kind() string { return "counting" }
func (*countingGateway) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{Micropay: []pos.Wallet{pos.WeChatPay}, Reverse: true}
}
func (*countingGateway) Timing() gateways.Timing {
	return gateways.Timing{PollInterval: 5 * time.Second, MinPollInterval: 5 * time.Second, PayTimeout: 60 * time.Second,
		CallTimeout: 10 * time.Second, RetryBackoff: 5 * time.Second, RetryBackoffMax: 30 * time.Second}
}
func (*countingGateway) Micropay(context.Context, gateways.MicropayRequest) (gateways.Result, error) {
	return gateways.Result{Status: gateways.StatusUserPaying}, nil
}
func (g *countingGateway) Query(context.Context, gateways.OrderRef) (gateways.Result, error) {
	g.queries.Add(1)
	return gateways.Result{Status: gateways.StatusUserPaying}, nil
}
func (g *countingGateway) Reverse(context.Context, gateways.OrderRef) (gateways.Result, error) {
	g.reverses.Add(1)
	return gateways.Result{Status: gateways.StatusSucceeded}, nil
}

// TestStepsOfTheWallClockMoveNoDeadline: queries and the reverse at the
// pay timeout fire when the steady clock says, while the wall clock is set
// back an hour and then forward two: neither postponed nor hurried. Calls
// are counted with the fake clock held still, never timed.
func TestStepsOfTheWallClockMoveNoDeadline(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	clk := &steppingClock{wall: t0}
	gw := &countingGateway{}
	logs := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("runner log:\n%s", logs)
		}
	}()
	r, err := flows.NewRunner(flows.Options{
		Journal: db, Gateways: map[string]gateways.Gateway{"counting": gw}, Clock: clk,
		CodeKey: []byte("0123456789abcdef0123456789abcdef"), WalletRules: flows.WalletRules{},
		Tick:   5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// settle lets the loop come round a few times at the clock as set, so
	// whatever is due has been started and answered.
	settle := func() {
		t.Helper()
		for range 3 {
			actx, acancel := context.WithTimeout(ctx, 10*time.Second)
			err := r.Alive(actx)
			acancel()
			if err != nil {
				t.Fatalf("the runner's loop did not come round: %v", err)
			}
		}
	}
	// queryAt waits for the payment's next query to be journaled for at.
	queryAt := func(id string, at time.Time) {
		t.Helper()
		// Waiting for the runner's goroutines to have answered, not timing
		// them: a loaded machine may take its time.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			ops, err := db.Ops(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(ops) == 1 && ops[0].Kind == store.OpQuery && ops[0].NotBefore.Equal(at) {
				return
			}
			settle()
		}
		ops, _ := db.Ops(ctx, id)
		t.Fatalf("payment %s owes %+v, want one query at %s", id, ops, at)
	}
	var started []string
	counts := func(what string, queries, reverses int32) {
		t.Helper()
		settle()
		if q, rv := gw.queries.Load(), gw.reverses.Load(); q != queries || rv != reverses {
			for _, id := range started {
				evs, _ := db.Events(ctx, id)
				for _, e := range evs {
					t.Logf("%s %s: %s -> %s (%s; %s)", id, e.At.Format(time.TimeOnly), e.From, e.To, e.Reason, e.Detail)
				}
			}
			t.Fatalf("%s: %d queries and %d reverses, want %d and %d", what, q, rv, queries, reverses)
		}
	}

	settle() // the start's resume is done: the payment below is this run's
	p, err := r.Start(ctx, flows.StartRequest{Amount: money(t, 1292), Method: pos.Micropay, Code: code(t, "134567890123456789")})
	if err != nil {
		t.Fatal(err)
	}
	started = append(started, p.ID)
	if p.State != pos.StateUserPaying {
		t.Fatalf("after the submit: %s", p.State)
	}
	queryAt(p.ID, t0.Add(5*time.Second)) // journaled as wall time

	// Set back an hour: the query due at 5 s still fires at 5 s.
	clk.step(-time.Hour)
	clk.advance(4 * time.Second)
	counts("4 s in, the clock set back an hour", 0, 0)
	clk.advance(time.Second)
	queryAt(p.ID, t0.Add(10*time.Second))
	counts("5 s in, the clock set back an hour", 1, 0)

	// Set forward two hours (an hour past the pay timeout by the wall
	// clock): nothing is hurried, the payment is not reversed early.
	clk.step(2 * time.Hour)
	clk.advance(time.Second)
	counts("6 s in, the clock an hour fast", 1, 0)
	for at := 10 * time.Second; at < 60*time.Second; at += 5 * time.Second {
		clk.advance(at - clk.Steady())
		next := min(at+5*time.Second, 60*time.Second)
		queryAt(p.ID, t0.Add(next))
	}
	counts("55 s in", 11, 0)

	// A payment begun after the steps journals its times by the wall clock
	// as it reads now: a restart reads them against the same clock.
	p2, err := r.Start(ctx, flows.StartRequest{Amount: money(t, 100), Method: pos.Micropay, Code: code(t, "134567890123456781")})
	if err != nil {
		t.Fatal(err)
	}
	queryAt(p2.ID, clk.Now().Add(5*time.Second))
	if want := clk.Now().Add(60 * time.Second); !p2.Deadline.Equal(want) {
		t.Errorf("the new payment's deadline is %s, want %s (the wall clock's)", p2.Deadline, want)
	}

	// The pay timeout, 60 s after the submit by the steady clock: reversed.
	clk.advance(5 * time.Second)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		got, err := db.Payment(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == pos.StateReversed {
			break
		}
		settle()
	}
	if rv := gw.reverses.Load(); rv != 1 {
		t.Fatalf("at the pay timeout: %d reverses, want 1", rv)
	}
	if got, _ := db.Payment(ctx, p.ID); got.State != pos.StateReversed {
		t.Fatalf("at the pay timeout the payment is %s, want reversed", got.State)
	}
}

// refundingGateway takes every payment at once and accepts every refund
// without finishing it: it counts the refund queries it is asked.
type refundingGateway struct {
	countingGateway
	refundQueries atomic.Int32
}

func (*refundingGateway) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{Micropay: []pos.Wallet{pos.WeChatPay}, Reverse: true, Refund: true, PartialRefund: true}
}
func (*refundingGateway) Refund(context.Context, gateways.RefundRequest) (gateways.Result, error) {
	return gateways.Result{Status: gateways.StatusUserPaying}, nil
}
func (g *refundingGateway) QueryRefund(context.Context, gateways.RefundRequest) (gateways.Result, error) {
	g.refundQueries.Add(1)
	return gateways.Result{Status: gateways.StatusUserPaying}, nil
}

// TestStepsOfTheWallClockMoveNoRefundQuery: a refund's queries follow the
// steady clock too, whatever is done to the wall clock.
func TestStepsOfTheWallClockMoveNoRefundQuery(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	p := pos.Payment{ID: "pay_r", OutTradeNo: "OTNPAYR", Gateway: "refunding", Method: pos.Micropay,
		Amount: pos.Money{Minor: 1000, Currency: "CNY"}, Wallet: pos.WeChatPay, CodeMasked: "1345********6789",
		State: pos.StateSubmitting, CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour), SubmittedAt: t0.Add(-time.Hour)}
	if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: p.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	p.State = pos.StateSucceeded
	if err := db.Append(ctx, store.Change{Payment: p, From: pos.StateSubmitting, Reason: "paid", At: p.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	clk := &steppingClock{wall: t0}
	gw := &refundingGateway{}
	rr, err := flows.NewRefundRunner(flows.RefundOptions{Journal: db, Gateways: map[string]gateways.Gateway{"refunding": gw}, Clock: clk, Tick: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = rr.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()

	r, err := rr.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: pos.Money{Minor: 300, Currency: "CNY"}, Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	queryAt := func(at time.Time) {
		t.Helper()
		var ops []store.RefundOp
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if ops, err = db.RefundOps(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
			if len(ops) == 1 && ops[0].NotBefore.Equal(at) {
				return
			}
		}
		t.Fatalf("refund %s owes %+v, want one query at %s", r.ID, ops, at)
	}
	// noQueryYet gives the loop (woken every 5 ms) many turns at the clock
	// as set, then counts.
	noQueryYet := func(what string, want int32) {
		t.Helper()
		time.Sleep(100 * time.Millisecond)
		if n := gw.refundQueries.Load(); n != want {
			t.Fatalf("%s: %d refund queries, want %d", what, n, want)
		}
	}
	first := r.UpdatedAt
	if ops, _ := db.RefundOps(ctx, r.ID); len(ops) != 1 || !ops[0].NotBefore.After(first) {
		t.Fatalf("an accepted refund owes %+v, want a query later", ops)
	}
	ops, _ := db.RefundOps(ctx, r.ID)
	due := ops[0].NotBefore.Sub(t0)

	clk.step(-time.Hour)
	clk.advance(due - time.Second)
	noQueryYet("a second before the query, the clock set back an hour", 0)
	clk.advance(time.Second)
	for deadline := time.Now().Add(30 * time.Second); gw.refundQueries.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := gw.refundQueries.Load(); n != 1 {
		t.Fatalf("the refund query due at %s, the clock set back an hour: %d queries", due, n)
	}
	ops, _ = db.RefundOps(ctx, r.ID)
	for deadline := time.Now().Add(30 * time.Second); (len(ops) != 1 || !ops[0].NotBefore.After(t0.Add(due))) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		ops, _ = db.RefundOps(ctx, r.ID)
	}
	next := ops[0].NotBefore
	queryAt(next)

	clk.step(2 * time.Hour)
	noQueryYet("the clock set an hour fast", 1)
	clk.advance(next.Sub(t0.Add(clk.Steady())))
	for deadline := time.Now().Add(30 * time.Second); gw.refundQueries.Load() == 1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := gw.refundQueries.Load(); n != 2 {
		t.Fatalf("the second refund query: %d queries, want 2", n)
	}
}
