package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// LatestTime is the latest time written to the journal's histories (a
// payment's or a refund's event), zero for an empty journal. The daemon
// compares it with the clock at start: a clock behind the journal stepped
// back while the daemon was down, and times it writes now would sort before
// what is already there.
func (db *DB) LatestTime(ctx context.Context) (time.Time, error) {
	var n sql.NullInt64
	err := db.rq.QueryRowContext(ctx,
		`SELECT max(at) FROM (SELECT max(at) AS at FROM events UNION ALL SELECT max(at) FROM refund_events)`).Scan(&n)
	if err != nil {
		return time.Time{}, classify("sqlite.LatestTime", err)
	}
	if !n.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, n.Int64).UTC(), nil
}
