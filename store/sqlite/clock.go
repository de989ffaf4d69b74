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
//
// It reads the newest latestTimeTail events of each history (by sequence,
// the order they were written) rather than every event: max(at) over the
// whole table has no index to use and cost 40 ms of every start with
// 100,000 payments (scripts/bench.sh, growth). The newest events carry the
// latest times unless the clock stepped back while the last run wrote more
// than that many events after the step, which the running daemon reports
// itself (watchClock).
func (db *DB) LatestTime(ctx context.Context) (time.Time, error) {
	var n sql.NullInt64
	err := db.rq.QueryRowContext(ctx,
		`SELECT max(at) FROM (
			SELECT at FROM (SELECT at FROM events ORDER BY seq DESC LIMIT ?1)
			UNION ALL
			SELECT at FROM (SELECT at FROM refund_events ORDER BY seq DESC LIMIT ?1))`, latestTimeTail).Scan(&n)
	if err != nil {
		return time.Time{}, classify("sqlite.LatestTime", err)
	}
	if !n.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, n.Int64).UTC(), nil
}

// latestTimeTail is how many of the newest events of each history
// LatestTime reads.
const latestTimeTail = 1000
