package flows_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
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

// stallingJournal holds the first payment read after a payment is created
// (the read behind the submit's answer) for up to hold after it has read,
// so the test can journal a cancel between that read and its write.
type stallingJournal struct {
	*sqlite.DB
	armed   atomic.Bool
	reading chan string   // the payment ID, once the stalled read has read
	release chan struct{} // closed to let the stalled read return
	hold    time.Duration
}

func (j *stallingJournal) Append(ctx context.Context, c store.Change) error {
	err := j.DB.Append(ctx, c)
	if err == nil && c.From == "" {
		j.armed.Store(true)
	}
	return err
}

func (j *stallingJournal) Payment(ctx context.Context, id string) (pos.Payment, error) {
	p, err := j.DB.Payment(ctx, id)
	if j.armed.CompareAndSwap(true, false) {
		j.reading <- id
		select {
		case <-j.release:
		case <-time.After(j.hold):
		}
	}
	return p, err
}

// TestCancelDuringSubmitIsNotOverwritten: the cashier's cancel, journaled
// while the submit's answer is being decided, must not be lost. The
// journal's compare-and-set sees only the state, and a cancel during the
// submit is a submitting → submitting self-transition: before the runner
// decided one payment change at a time, the answer decided on the snapshot
// read before the cancel overwrote it, and a cancelled sale ended
// succeeded (found by cmd/posagent's random crash test).
func TestCancelDuringSubmitIsNotOverwritten(t *testing.T) {
	so := mmspsim.DemoOptions()
	so.LedgerPath = filepath.Join(t.TempDir(), "ledger.json")
	simulator, err := mmspsim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(simulator)
	t.Cleanup(srv.Close)
	co := mmspOptions(so, srv.URL, "http://127.0.0.1:1/notify/mmsp")
	co.Timing = mmsp.TimingOptions{PollInterval: 200 * time.Millisecond, PayTimeout: 2 * time.Second, QRTimeout: 3 * time.Second, ReverseAfter: time.Second}
	g, err := mmsp.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	j := &stallingJournal{DB: db, reading: make(chan string, 1), release: make(chan struct{}), hold: 500 * time.Millisecond}
	r, err := flows.NewRunner(flows.Options{WalletRules: flows.WalletRules{}, // the simulator runs fast timings

		Journal:  j,
		Gateways: map[string]gateways.Gateway{"mmsp": g},
		CodeKey:  []byte("0123456789abcdef0123456789abcdef"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	started := make(chan error, 1)
	go func() {
		_, err := r.Start(ctx, flows.StartRequest{Amount: money(t, 1200), Method: pos.Micropay, Code: code(t, "134567890123456789")})
		started <- err
	}()
	id := <-j.reading // the acquirer took the money; its answer is being decided
	cancelled, cancelErr := func() (pos.Payment, error) {
		defer close(j.release)
		return r.Cancel(ctx, id)
	}()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	p, err := r.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Either the cancel came too late (it says the payment succeeded, or
	// refuses), or it was recorded, and then the payment is unwound.
	if cancelErr == nil && !cancelled.State.Final() && p.State == pos.StateSucceeded {
		t.Fatalf("the cancel was accepted (%s, cancel requested %v), then overwritten: the payment is %s", cancelled.State, cancelled.CancelRequested, p.State)
	}
	t.Logf("cancel answered %s (%v); the payment is %s", cancelled.State, cancelErr, p.State)
}
