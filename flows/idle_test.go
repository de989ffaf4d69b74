package flows_test

import (
	"context"
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

// timerClock is a fake flows.TimerClock: time moves only by Advance, which
// fires the timers it passes.
type timerClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at    time.Time
	c     chan time.Time
	fired bool
	clk   *timerClock
}

func (c *timerClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *timerClock) NewTimer(d time.Duration) flows.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1), clk: c}
	if d <= 0 {
		t.fired = true
		t.c <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	was := !t.fired
	t.fired = true
	return was
}

// Advance moves the clock by d and fires every timer due by then.
func (c *timerClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	live := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.fired:
		case !c.now.Before(t.at):
			t.fired = true
			t.c <- c.now
		default:
			live = append(live, t)
		}
	}
	c.timers = live
}

// pendingTimers counts the timers set and not fired or stopped.
func (c *timerClock) pendingTimers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.fired {
			n++
		}
	}
	return n
}

// countingJournal counts the runner's reads of the journal.
type countingJournal struct {
	*sqlite.DB
	reads atomic.Int64
}

func (j *countingJournal) DueOps(ctx context.Context, now time.Time) ([]store.Op, error) {
	j.reads.Add(1)
	return j.DB.DueOps(ctx, now)
}

func (j *countingJournal) Pending(ctx context.Context) ([]pos.Payment, error) {
	j.reads.Add(1)
	return j.DB.Pending(ctx)
}

func (j *countingJournal) Payment(ctx context.Context, id string) (pos.Payment, error) {
	j.reads.Add(1)
	return j.DB.Payment(ctx, id)
}

func (j *countingJournal) Ops(ctx context.Context, id string) ([]store.Op, error) {
	j.reads.Add(1)
	return j.DB.Ops(ctx, id)
}

// settle waits until the runner's loop is asleep on a timer of clk with
// nothing left running: the reads have stopped and a timer is set.
func settle(t *testing.T, clk *timerClock, j *countingJournal) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := j.reads.Load()
	for quiet := 0; quiet < 20; {
		time.Sleep(time.Millisecond)
		if n := j.reads.Load(); n != last || clk.pendingTimers() == 0 {
			last, quiet = n, 0
		} else {
			quiet++
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner's loop did not settle")
		}
	}
}

// TestRunnerIdleWaitsForTheNextDueItem: a runner with nothing to do reads
// the journal only for its periodic resume (every ResumeEvery), not at a
// tick: over ten fake minutes, in 100 ms steps, it reads it a handful of
// times. An outbox operation journaled for later runs when the fake clock
// reaches it, without anything waking the runner.
func TestRunnerIdleWaitsForTheNextDueItem(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	j := &countingJournal{DB: db}
	rg := newRig(t) // only for its gateway
	clk := &timerClock{now: time.Now()}
	r, err := flows.NewRunner(flows.Options{Journal: j, Gateways: rg.gateways, CodeKey: []byte("0123456789abcdef0123456789abcdef"),
		Clock: clk, WalletRules: flows.WalletRules{}, ResumeEvery: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	settle(t, clk, j)
	before := j.reads.Load()
	const step, span = 100 * time.Millisecond, 10 * time.Minute
	for range span / step {
		clk.Advance(step)
		time.Sleep(50 * time.Microsecond) // let a polling loop show itself
	}
	settle(t, clk, j)
	reads := j.reads.Load() - before
	// A resume a minute reads the outbox and the pending payments: 2
	// reads, 10 times. A 200 ms tick would have read the outbox 3000
	// times over the same fake span.
	if reads > 2*int64(span/time.Minute)+2 {
		t.Errorf("idle for %v of fake time: %d journal reads, want at most %d (one resume a minute)", span, reads, 2*int64(span/time.Minute)+2)
	}
	t.Logf("idle for %v of fake time: %d journal reads", span, reads)

	// A payment polled 30 s from now: its query runs when the clock gets
	// there, and not before.
	p := pos.Payment{ID: "pay_idle", OutTradeNo: "PAIDLE00000000000001", Gateway: "mmsp", Method: pos.Micropay,
		Amount: money(t, 1200), Wallet: pos.WeChatPay, CodeMasked: "13**************89", State: pos.StateUserPaying,
		CreatedAt: clk.Now(), UpdatedAt: clk.Now(), SubmittedAt: clk.Now(), Deadline: clk.Now().Add(time.Hour)}
	due := clk.Now().Add(30 * time.Second)
	if err := db.Append(ctx, store.Change{Payment: p, Reason: "test", At: clk.Now(), Enqueue: []store.Op{{Kind: store.OpQuery, NotBefore: due}}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Alive(ctx); err != nil { // the loop looks once (as a journaled change would make it)
		t.Fatal(err)
	}
	settle(t, clk, j)
	clk.Advance(29 * time.Second)
	settle(t, clk, j)
	if ops, _ := db.Ops(ctx, p.ID); len(ops) != 1 || ops[0].Attempts != 0 {
		t.Fatalf("before it is due: ops %+v, want the query untouched", ops)
	}
	clk.Advance(time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ops, err := db.Ops(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 1 || ops[0].Attempts > 0 || !ops[0].NotBefore.Equal(due) {
			break // the query ran: it was completed or retried
		}
		if time.Now().After(deadline) {
			t.Fatal("the query due at the fake clock's time did not run")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var _ gateways.Gateway // the rig's gateways map

// countingRefundJournal counts the refund runner's reads of its outbox
// and pending refunds.
type countingRefundJournal struct {
	*sqlite.DB
	reads atomic.Int64
}

func (j *countingRefundJournal) DueRefundOps(ctx context.Context, now time.Time) ([]store.RefundOp, error) {
	j.reads.Add(1)
	return j.DB.DueRefundOps(ctx, now)
}

func (j *countingRefundJournal) PendingRefunds(ctx context.Context) ([]pos.Refund, error) {
	j.reads.Add(1)
	return j.DB.PendingRefunds(ctx)
}

// TestRefundRunnerIdleWaits: the refund runner with nothing to do reads its
// outbox only for its periodic resume, not at a tick.
func TestRefundRunnerIdleWaits(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	j := &countingRefundJournal{DB: db}
	rg := newRig(t) // only for its gateway
	clk := &timerClock{now: time.Now()}
	rr, err := flows.NewRefundRunner(flows.RefundOptions{Journal: j, Gateways: rg.gateways, Clock: clk, ResumeEvery: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rr.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	settleOn := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		last := j.reads.Load()
		for quiet := 0; quiet < 20; {
			time.Sleep(time.Millisecond)
			if n := j.reads.Load(); n != last || clk.pendingTimers() == 0 {
				last, quiet = n, 0
			} else {
				quiet++
			}
			if time.Now().After(deadline) {
				t.Fatal("the refund runner's loop did not settle")
			}
		}
	}
	settleOn()
	before := j.reads.Load()
	const step, span = 100 * time.Millisecond, 10 * time.Minute
	for range span / step {
		clk.Advance(step)
		time.Sleep(50 * time.Microsecond)
	}
	settleOn()
	if reads, most := j.reads.Load()-before, 2*int64(span/time.Minute)+2; reads > most {
		t.Errorf("idle for %v of fake time: %d refund journal reads, want at most %d", span, reads, most)
	}
}
