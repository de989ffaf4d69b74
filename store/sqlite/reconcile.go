package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

var _ store.ReconcileLog = (*DB)(nil)

const selectReconciliation = `SELECT id, ran_at, date, trigger, ok, issues, failed, report FROM reconciliations`

// AddReconciliation keeps r on its own write.
func (db *DB) AddReconciliation(ctx context.Context, r store.Reconciliation) (store.Reconciliation, error) {
	const op = "sqlite.AddReconciliation"
	if r.At.IsZero() {
		return r, pos.Errorf(pos.Invalid, op, "a reconciliation needs the time it ran")
	}
	at, err := encTime(op, "at", r.At)
	if err != nil {
		return r, err
	}
	ok := 0
	if r.OK {
		ok = 1
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO reconciliations (ran_at, date, trigger, ok, issues, failed, report) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		at, r.Date, r.Trigger, ok, r.Issues, r.Failed, string(r.Report))
	if err != nil {
		return r, classify(op, err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return r, classify(op, err)
	}
	return r, nil
}

// LastReconciliation returns the most recent kept run.
func (db *DB) LastReconciliation(ctx context.Context) (store.Reconciliation, error) {
	return db.reconciliation(ctx, "sqlite.LastReconciliation", selectReconciliation+` ORDER BY id DESC LIMIT 1`)
}

// ReconciliationOf returns the last kept run of date.
func (db *DB) ReconciliationOf(ctx context.Context, date string) (store.Reconciliation, error) {
	return db.reconciliation(ctx, "sqlite.ReconciliationOf", selectReconciliation+` WHERE date = ? ORDER BY id DESC LIMIT 1`, date)
}

func (db *DB) reconciliation(ctx context.Context, op, query string, args ...any) (store.Reconciliation, error) {
	var (
		r      store.Reconciliation
		at     sql.NullInt64
		ok     int
		report string
	)
	err := db.r.QueryRowContext(ctx, query, args...).Scan(&r.ID, &at, &r.Date, &r.Trigger, &ok, &r.Issues, &r.Failed, &report)
	if errors.Is(err, sql.ErrNoRows) {
		return r, pos.Errorf(pos.NotFound, op, "no reconciliation kept")
	}
	if err != nil {
		return r, classify(op, err)
	}
	r.At, r.OK, r.Report = decTime(at), ok == 1, []byte(report)
	return r, nil
}
