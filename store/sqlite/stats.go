package sqlite

import (
	"context"
	"database/sql"
	"os"
	"time"
)

// PaymentCount is how many payments share a gateway, wallet, method and
// state.
type PaymentCount struct {
	Gateway, Wallet, Method, State string
	N                              int
}

// Stats is what the journal tells about itself for the daemon's metrics.
// It is read at scrape time from the journal, so the figures survive
// restarts and cannot drift from what was journaled; payments and refunds
// pruned by the retention policy stay counted (pruned_payments,
// pruned_refunds), so the counters never go down.
type Stats struct {
	Payments []PaymentCount
	// Refunds by state.
	Refunds map[string]int
	// Outbox is every pending gateway operation (payments' and refunds');
	// OldestOutbox the creation time of the oldest, zero when empty.
	Outbox       int
	OldestOutbox time.Time
	// Bytes is the size of the journal file and its WAL.
	Bytes int64
}

// Stats reads the journal's figures through the read pool.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	const op = "sqlite.Stats"
	var s Stats
	rows, err := db.rq.QueryContext(ctx, `SELECT gateway, wallet, method, state, sum(n) FROM (
		SELECT gateway, wallet, method, state, count(*) AS n FROM payments GROUP BY 1, 2, 3, 4
		UNION ALL SELECT gateway, wallet, method, state, n FROM pruned_payments)
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`)
	if err != nil {
		return s, classify(op, err)
	}
	for rows.Next() {
		var c PaymentCount
		if err := rows.Scan(&c.Gateway, &c.Wallet, &c.Method, &c.State, &c.N); err != nil {
			rows.Close()
			return s, classify(op, err)
		}
		s.Payments = append(s.Payments, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s, classify(op, err)
	}
	s.Refunds = map[string]int{}
	rows, err = db.rq.QueryContext(ctx, `SELECT state, sum(n) FROM (SELECT state, count(*) AS n FROM refunds GROUP BY 1
		UNION ALL SELECT state, n FROM pruned_refunds) GROUP BY 1`)
	if err != nil {
		return s, classify(op, err)
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return s, classify(op, err)
		}
		s.Refunds[st] = n
	}
	rows.Close()
	var oldest sql.NullInt64
	err = db.rq.QueryRowContext(ctx, `SELECT sum(n), min(oldest) FROM (
		SELECT count(*) AS n, min(created_at) AS oldest FROM outbox
		UNION ALL SELECT count(*), min(created_at) FROM refund_outbox)`).Scan(&s.Outbox, &oldest)
	if err != nil {
		return s, classify(op, err)
	}
	if oldest.Valid {
		s.OldestOutbox = time.Unix(0, oldest.Int64).UTC()
	}
	for _, p := range []string{db.path, db.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			s.Bytes += fi.Size()
		}
	}
	return s, nil
}
