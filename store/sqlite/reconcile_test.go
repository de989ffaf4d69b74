package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// Kept reconciliations survive a reopen; the last one and the last of a
// day are found; none yet is NotFound; a bad row changes nothing.
func TestReconcileLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.LastReconciliation(ctx); !pos.Match(pos.NotFound, err) {
		t.Fatalf("LastReconciliation on an empty journal = %v, want NotFound", err)
	}
	at := time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC)
	first, err := db.AddReconciliation(ctx, store.Reconciliation{At: at, Date: "2026-12-01", Trigger: "daily", OK: true, Report: []byte(`[{"Gateway":"allinpay"}]`)})
	if err != nil || first.ID == 0 {
		t.Fatalf("AddReconciliation = %+v, %v", first, err)
	}
	if _, err := db.AddReconciliation(ctx, store.Reconciliation{At: at.Add(24 * time.Hour), Date: "2026-12-02", Trigger: "hourly", Report: []byte(`[]`)}); err == nil {
		t.Fatal("a reconciliation with an unknown trigger was kept")
	}
	if _, err := db.AddReconciliation(ctx, store.Reconciliation{At: at.Add(24 * time.Hour), Date: "2026-12-02", Trigger: "daily", Issues: 2, Failed: 1, Report: []byte(`[]`)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	last, err := db.LastReconciliation(ctx)
	if err != nil || last.Date != "2026-12-02" || last.OK || last.Issues != 2 || last.Failed != 1 || !last.At.Equal(at.Add(24*time.Hour)) {
		t.Errorf("LastReconciliation = %+v, %v", last, err)
	}
	day, err := db.ReconciliationOf(ctx, "2026-12-01")
	if err != nil || day.ID != first.ID || !day.OK || string(day.Report) != `[{"Gateway":"allinpay"}]` || day.Trigger != "daily" {
		t.Errorf("ReconciliationOf = %+v, %v", day, err)
	}
	if _, err := db.ReconciliationOf(ctx, "2026-11-30"); !pos.Match(pos.NotFound, err) {
		t.Errorf("ReconciliationOf a day never run = %v, want NotFound", err)
	}
}
