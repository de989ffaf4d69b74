package flows_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// wedgedJournal is the real journal whose outbox read can be made to hang,
// as a wedged disk or a lock held forever would.
type wedgedJournal struct {
	store.Journal
	stalled atomic.Bool
	release chan struct{}
}

func (j *wedgedJournal) DueOps(ctx context.Context, now time.Time) ([]store.Op, error) {
	if j.stalled.Load() {
		select {
		case <-j.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return j.Journal.DueOps(ctx, now)
}

// idleGateway is never called: the test takes no payments.
type idleGateway struct{}

func (idleGateway) Kind() string                        { return "idle" }
func (idleGateway) Capabilities() gateways.Capabilities { return gateways.Capabilities{} }
func (idleGateway) Timing() gateways.Timing             { return gateways.Timing{} }
func (idleGateway) Query(context.Context, gateways.OrderRef) (gateways.Result, error) {
	return gateways.Result{}, errors.New("idleGateway: no payments here")
}

// Alive is what the systemd watchdog asks before each ping: it must answer
// while the loop goes round and stop answering while the loop is stuck in
// the journal, so systemd restarts a wedged daemon.
func TestAliveFollowsTheLoop(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	j := &wedgedJournal{Journal: db, release: make(chan struct{})}
	r, err := flows.NewRunner(flows.Options{WalletRules: flows.WalletRules{}, // the simulator runs fast timings

		Journal:  j,
		Gateways: map[string]gateways.Gateway{"idle": idleGateway{}},
		CodeKey:  []byte("0123456789abcdef0123456789abcdef"),
		// A long tick: Alive must wake the loop, not wait for the ticker.
		Tick: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	defer func() { cancel(); close(j.release); <-done }()

	alive := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return r.Alive(ctx)
	}
	for i := range 3 {
		if err := alive(10 * time.Second); err != nil {
			t.Fatalf("round %d: Alive on a healthy loop: %v", i, err)
		}
	}
	j.stalled.Store(true)
	// The loop may already be past its read: let it come round into the stall.
	_ = alive(time.Second)
	if err := alive(300 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Alive while the loop is stuck in the journal = %v, want a deadline error", err)
	}
	j.stalled.Store(false)
	j.release <- struct{}{}
	if err := alive(10 * time.Second); err != nil {
		t.Fatalf("Alive after the journal came back: %v", err)
	}
}
