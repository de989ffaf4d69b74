package store

import (
	"context"
	"time"
)

// ReconcileLog keeps the reconciliations the daemon ran by itself (the
// daily run), so their results survive a restart and the support page and
// the metrics can show the last one. Found on a Journal by type assertion
// (the SQLite journal keeps them).
type ReconcileLog interface {
	// AddReconciliation keeps r (its ID and At are the journal's answer:
	// At is kept as given, ID assigned).
	AddReconciliation(ctx context.Context, r Reconciliation) (Reconciliation, error)
	// LastReconciliation returns the most recent kept run, or a
	// pos.NotFound error when none ran.
	LastReconciliation(ctx context.Context) (Reconciliation, error)
	// ReconciliationOf returns the last kept run of an acquirer day
	// (YYYY-MM-DD), or pos.NotFound: the daily run asks it so that a
	// restart never runs a day twice.
	ReconciliationOf(ctx context.Context, date string) (Reconciliation, error)
}

// Reconciliation is one kept run.
type Reconciliation struct {
	ID int64
	// At is when it ran; Date the acquirer day it reconciled.
	At   time.Time
	Date string
	// Trigger says what started it: "daily" (reconcile.daily_at).
	Trigger string
	// OK: every gateway's day added up. Issues counts the mismatches over
	// every gateway, Failed the gateways whose bill could not be had.
	OK     bool
	Issues int
	Failed int
	// Report is the per-gateway reports as JSON (flows.Report), kept
	// whole so that what the operator sees later is what was found.
	Report []byte
}
