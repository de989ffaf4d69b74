package flows_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/mmsp/mmspsim"
	"github.com/posagent/posagent/hw/printer/printertest"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// TestRunnerJournalsReceiptsWithTheFinalState: with a Spool as its
// receipt sink, the runner journals a final payment's receipts in the same
// write as the final state (before anything prints: here the spool is not
// even running), and the spool prints them once it runs.
func TestRunnerJournalsReceiptsWithTheFinalState(t *testing.T) {
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
	g, err := mmsp.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rec := printertest.NewRecorder()
	spool, err := flows.NewSpool(flows.SpoolOptions{Journal: db, Printer: rec, Customer: true, Merchant: true, Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r, err := flows.NewRunner(flows.Options{WalletRules: flows.WalletRules{}, // the simulator runs fast timings

		Journal:  db,
		Gateways: map[string]gateways.Gateway{"mmsp": g},
		Receipts: spool,
		CodeKey:  []byte("0123456789abcdef0123456789abcdef"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	paid, err := r.Start(ctx, flows.StartRequest{Amount: money(t, 1200), Method: pos.Micropay, Code: code(t, "134567890123456789")})
	if err != nil || paid.State != pos.StateSucceeded {
		t.Fatalf("pay 12.00: %v %v", paid.State, err)
	}
	declined, err := r.Start(ctx, flows.StartRequest{Amount: money(t, 1293), Method: pos.Micropay, Code: code(t, "284567890123456789")})
	if err != nil || declined.State != pos.StateFailed {
		t.Fatalf("pay 12.93: %v %v", declined.State, err)
	}

	type job struct{ Payment, Kind string }
	var got []job
	pending, err := db.PendingPrints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range pending {
		got = append(got, job{j.PaymentID, j.Kind})
		p, _ := db.Payment(ctx, j.PaymentID)
		if !j.CreatedAt.Equal(p.UpdatedAt) {
			t.Errorf("job %d created at %v, payment final at %v: not the same write", j.ID, j.CreatedAt, p.UpdatedAt)
		}
	}
	want := []job{
		{paid.ID, store.ReceiptMerchant}, {paid.ID, store.ReceiptCustomer},
		{declined.ID, store.ReceiptCustomer},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("journaled receipts (-want +got):\n%s", diff)
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = spool.Run(runCtx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.Printed()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	var names []string
	for _, rc := range rec.Printed() {
		names = append(names, rc.Name)
	}
	if diff := cmp.Diff([]string{paid.ID + "-merchant", paid.ID + "-customer", declined.ID + "-customer"}, names); diff != "" {
		t.Errorf("printed (-want +got):\n%s", diff)
	}
}
