package flows_test

import (
	"context"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/printer/printertest"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/store/sqlite"
)

// maxPathCommits is the aim of issue 14: a payment costs the journal at
// most two fsync'd commits (journaled before it is sent, and its final
// state with the receipts it owes); printing the receipts must not cost a
// commit of its own.
const maxPathCommits = 2

// printedBoth waits until both receipts of payment id are marked printed.
func printedBoth(t *testing.T, rg *rig, id string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		jobs, err := rg.journal.PrintJobs(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, j := range jobs {
			if !j.PrintedAt.IsZero() {
				n++
			}
		}
		if n == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment %s: %d of its receipts printed, want 2 (jobs %+v)", id, n, jobs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPaymentPathCommits counts the journal's durable commits (SQLite's
// commit hook on the writer) from the till's request, or from the scan,
// until the payment is final and both its receipts are printed and marked.
func TestPaymentPathCommits(t *testing.T) {
	var spool *flows.Spool
	rr := newRigWith(t, func(o *flows.Options) {
		var err error
		spool, err = flows.NewSpool(flows.SpoolOptions{Journal: o.Journal.(*sqlite.DB), Printer: printertest.NewRecorder(), Customer: true, Merchant: true})
		if err != nil {
			t.Fatal(err)
		}
		o.Receipts = spool
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = spool.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	// Count from a runner that has finished resuming at start: a payment
	// created meanwhile would be resumed (queried) as one left from before.
	for deadline := time.Now().Add(10 * time.Second); !rr.runner.Recovered(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the runner did not finish resuming")
		}
	}

	t.Run("code in the request", func(t *testing.T) {
		before := rr.journal.Commits()
		p, err := rr.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1200), Method: pos.Micropay, Code: code(t, "134567890123456789")})
		if err != nil {
			t.Fatal(err)
		}
		if p = rr.final(t, p.ID); p.State != pos.StateSucceeded {
			t.Fatalf("payment is %s, want succeeded", p.State)
		}
		printedBoth(t, rr, p.ID)
		after := rr.journal.Commits()
		if n := after.Durable - before.Durable; n > maxPathCommits {
			t.Errorf("%d durable commits on the payment's path, want at most %d", n, maxPathCommits)
		}
		if n := after.Lazy - before.Lazy; n != 2 {
			t.Errorf("%d lazy commits (receipt marks), want 2", n)
		}
	})

	t.Run("scanned code", func(t *testing.T) {
		// The payment waiting for a code is journaled when the till asks,
		// before anybody scans; the path counted is the scan's.
		p, err := rr.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1300), Method: pos.Micropay})
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, rr, p.ID, pos.StateAwaitingCode)
		before := rr.journal.Commits()
		rr.scans <- scanner.Scan{Data: "134567890123456789", Source: "test", At: time.Now()}
		if p = rr.final(t, p.ID); p.State != pos.StateSucceeded {
			t.Fatalf("payment is %s, want succeeded", p.State)
		}
		printedBoth(t, rr, p.ID)
		after := rr.journal.Commits()
		if n := after.Durable - before.Durable; n > maxPathCommits {
			t.Errorf("%d durable commits from the scan to the printed receipts, want at most %d", n, maxPathCommits)
		}
	})
}

func waitState(t *testing.T, rg *rig, id string, want pos.State) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := rg.runner.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment %s is %s, want %s", id, p.State, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
