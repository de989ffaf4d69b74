package flows_test

import (
	"context"
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
	"net/http/httptest"
)

// refusingJournal refuses every payment write while full is set, as a
// full disk does (SQLITE_FULL is pos.Unavailable), and counts the writes
// it refused.
type refusingJournal struct {
	store.Journal
	full    atomic.Bool
	refused atomic.Int64
}

func (j *refusingJournal) Append(ctx context.Context, c store.Change) error {
	if j.full.Load() {
		j.refused.Add(1)
		return pos.Errorf(pos.Unavailable, "test.Append", "database or disk is full")
	}
	return j.Journal.Append(ctx, c)
}

// fillAfterMicropay fills the journal's disk once the micropay answered,
// before the runner can journal the answer.
type fillAfterMicropay struct {
	gateways.Gateway
	j *refusingJournal
}

func (g fillAfterMicropay) Micropay(ctx context.Context, req gateways.MicropayRequest) (gateways.Result, error) {
	res, err := g.Gateway.(gateways.Micropayer).Micropay(ctx, req)
	g.j.full.Store(true)
	return res, err
}

// TestRunStartedAfterAKeptAnswerRetriesIt: a submit's answer kept because
// the disk was full when it came, and a Run that starts only then (as the
// fault matrix's runners, started beside the first payment, now and then
// did on a loaded machine). The start's resume took the payment for one a
// restart had interrupted, its "outcome unknown" write failed on the full
// disk, and Run returned that error: nothing retried the kept answer, and
// the payment stayed submitting for good. The resume must leave it to the
// retry, and Run must go on.
func TestRunStartedAfterAKeptAnswerRetriesIt(t *testing.T) {
	so := mmspsim.DemoOptions()
	so.LedgerPath = filepath.Join(t.TempDir(), "ledger.json")
	simulator, err := mmspsim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(simulator)
	t.Cleanup(srv.Close)
	co := mmspOptions(so, srv.URL, "http://127.0.0.1:1/notify/mmsp")
	co.CallTimeout = time.Second
	inner, err := mmsp.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	j := &refusingJournal{Journal: db}
	r, err := flows.NewRunner(flows.Options{Journal: j, Gateways: map[string]gateways.Gateway{"mmsp": fillAfterMicropay{inner, j}},
		CodeKey: []byte("0123456789abcdef0123456789abcdef"), Tick: 20 * time.Millisecond, WalletRules: flows.WalletRules{}, ResumeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Start(context.Background(), flows.StartRequest{Amount: pos.Money{Minor: 100, Currency: "CNY"}, Method: pos.Micropay, Code: mustCode("134567890123456789")})
	if err != nil {
		t.Fatalf("Start: %v (a kept answer is not an error)", err)
	}
	if p.State != pos.StateSubmitting || j.refused.Load() == 0 {
		t.Fatalf("the answer's write was not refused (state %s, %d refused): the kept-answer path was not reached", p.State, j.refused.Load())
	}

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	defer func() { cancel(); <-ran }()
	// Run has resumed and its loop has retried the kept write (and met
	// the full disk again) once three more writes were refused; a Run
	// that ended has retried nothing.
	before := j.refused.Load()
	for j.refused.Load() < before+3 {
		select {
		case err := <-ran:
			ran <- err
			t.Fatalf("Run ended while the disk was full, the answer still kept: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	j.full.Store(false) // the space comes back

	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second) // a hang guard, not a measure
	defer wcancel()
	for {
		got, err := r.Get(wctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == pos.StateSucceeded {
			break
		}
		if got.State.Final() {
			t.Fatalf("payment ended %s, not succeeded: the kept answer (paid) was not the one journaled", got.State)
		}
		if _, err := r.Wait(wctx, p.ID, got.State); err != nil {
			t.Fatalf("payment still %s after the space came back: %v", got.State, err)
		}
	}
}
