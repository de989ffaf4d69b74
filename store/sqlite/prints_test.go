package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// finalWithReceipts is the Change that makes p succeeded and owes its two
// copies, the way the runner journals a final state.
func finalWithReceipts(p pos.Payment, at time.Time) store.Change {
	c := move(p, pos.StateSucceeded, at)
	c.Prints = []store.PrintJob{{Kind: store.ReceiptMerchant}, {Kind: store.ReceiptCustomer}}
	return c
}

func TestPrintQueue(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/j.db"
	db := openAt(t, path, Options{})
	p := samplePayment("pay_print")
	mustAppend(t, db, create(p))
	at := t0.Add(time.Minute)
	mustAppend(t, db, finalWithReceipts(p, at))

	pending, err := db.PendingPrints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.PrintJob{
		{ID: 1, PaymentID: p.ID, Kind: store.ReceiptMerchant, CreatedAt: at.UTC()},
		{ID: 2, PaymentID: p.ID, Kind: store.ReceiptCustomer, CreatedAt: at.UTC()},
	}
	if diff := cmp.Diff(want, pending); diff != "" {
		t.Fatalf("jobs journaled with the final state (-want +got):\n%s", diff)
	}

	// A failed attempt is recorded; the job stays pending.
	retryAt := at.Add(5 * time.Second)
	if err := db.RetryPrint(ctx, 1, retryAt, "printer not ready: paper out"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkPrinted(ctx, 2, at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkPrinted(ctx, 2, at.Add(time.Second)); !pos.Match(pos.Conflict, err) {
		t.Errorf("MarkPrinted twice: %v, want Conflict", err)
	}
	if err := db.RetryPrint(ctx, 2, retryAt, "x"); !pos.Match(pos.NotFound, err) {
		t.Errorf("RetryPrint of a printed job: %v, want NotFound", err)
	}
	if err := db.MarkPrinted(ctx, 99, at); !pos.Match(pos.NotFound, err) {
		t.Errorf("MarkPrinted of an unknown job: %v, want NotFound", err)
	}
	db.Close()

	// What is pending survives a reopen, with its attempts.
	db = openAt(t, path, Options{})
	pending, err = db.PendingPrints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want = []store.PrintJob{{ID: 1, PaymentID: p.ID, Kind: store.ReceiptMerchant, CreatedAt: at.UTC(), NotBefore: retryAt.UTC(), Attempts: 1, LastError: "printer not ready: paper out"}}
	if diff := cmp.Diff(want, pending); diff != "" {
		t.Fatalf("pending after reopen (-want +got):\n%s", diff)
	}

	// A reprint is enqueued on its own; summaries have no payment.
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	got, err := db.EnqueuePrints(ctx, later, []store.PrintJob{
		{PaymentID: p.ID, Kind: store.ReceiptCustomer, Reprint: true},
		{Kind: store.SummaryKind(day)},
	})
	if err != nil {
		t.Fatal(err)
	}
	want = []store.PrintJob{
		{ID: 3, PaymentID: p.ID, Kind: store.ReceiptCustomer, Reprint: true, CreatedAt: later.UTC()},
		{ID: 4, Kind: "summary-20260314", CreatedAt: later.UTC()},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("EnqueuePrints (-want +got):\n%s", diff)
	}
	all, err := db.PrintJobs(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || !all[1].Printed() || all[0].Printed() || !all[2].Reprint {
		t.Errorf("PrintJobs(%s) = %+v", p.ID, all)
	}
}

func TestPrintQueueRefusals(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	p := samplePayment("pay_refuse")
	mustAppend(t, db, create(p))
	for _, tc := range []struct {
		name string
		job  store.PrintJob
		want pos.Kind
	}{
		{"unknown kind", store.PrintJob{Kind: "payment-everyone"}, pos.Invalid},
		{"another payment", store.PrintJob{PaymentID: "pay_other", Kind: store.ReceiptVoid}, pos.Invalid},
		{"ID set", store.PrintJob{ID: 7, Kind: store.ReceiptVoid}, pos.Invalid},
		{"already attempted", store.PrintJob{Kind: store.ReceiptVoid, Attempts: 1}, pos.Invalid},
		{"summary for a payment", store.PrintJob{Kind: "summary-20260314"}, pos.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := move(p, pos.StateFailed, t0.Add(time.Minute))
			c.Prints = []store.PrintJob{tc.job}
			if err := db.Append(ctx, c); !pos.Match(tc.want, err) {
				t.Fatalf("Append: %v, want %v", err, tc.want)
			}
			// Nothing of the change was written.
			if got := mustPayment(t, db, p.ID); got.State != p.State {
				t.Errorf("payment moved to %s although the change was refused", got.State)
			}
		})
	}
	for _, tc := range []struct {
		name string
		job  store.PrintJob
		want pos.Kind
	}{
		{"unknown payment", store.PrintJob{PaymentID: "pay_nobody", Kind: store.ReceiptCustomer}, pos.NotFound},
		{"payment receipt without payment", store.PrintJob{Kind: store.ReceiptCustomer}, pos.Invalid},
		{"bad summary day", store.PrintJob{Kind: "summary-20261399"}, pos.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.EnqueuePrints(ctx, t0, []store.PrintJob{tc.job}); !pos.Match(tc.want, err) {
				t.Fatalf("EnqueuePrints: %v, want %v", err, tc.want)
			}
		})
	}
	if pending, err := db.PendingPrints(ctx); err != nil || len(pending) != 0 {
		t.Errorf("refused jobs were queued: %v %v", pending, err)
	}
}
