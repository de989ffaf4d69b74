package sqlite

import (
	"context"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

var _ store.OutboxAdmin = (*DB)(nil)

// AllOps returns every outstanding payment outbox operation by ID.
func (db *DB) AllOps(ctx context.Context) ([]store.Op, error) {
	return db.ops(ctx, "sqlite.AllOps", selectOp+` ORDER BY id`)
}

// AllRefundOps returns every outstanding refund outbox operation by ID.
func (db *DB) AllRefundOps(ctx context.Context) ([]store.RefundOp, error) {
	return db.refundOps(ctx, "sqlite.AllRefundOps", selectRefundOp+` ORDER BY id`)
}

// RetryOpNow makes payment op id due at at; its attempts and last error
// stay as they are (an operator's "now" is not a failed attempt).
func (db *DB) RetryOpNow(ctx context.Context, id int64, at time.Time) error {
	return db.dueNow(ctx, "sqlite.RetryOpNow", `UPDATE outbox SET not_before = ? WHERE id = ?`, id, at)
}

// RetryRefundOpNow makes refund op id due at at.
func (db *DB) RetryRefundOpNow(ctx context.Context, id int64, at time.Time) error {
	return db.dueNow(ctx, "sqlite.RetryRefundOpNow", `UPDATE refund_outbox SET not_before = ? WHERE id = ?`, id, at)
}

func (db *DB) dueNow(ctx context.Context, op, query string, id int64, at time.Time) error {
	n, err := encTime(op, "at", at)
	if err != nil {
		return err
	}
	res, err := db.wq.ExecContext(ctx, query, n, id)
	if err != nil {
		return classify(op, err)
	}
	rows, err := res.RowsAffected()
	if err != nil {
		return classify(op, err)
	}
	if rows == 0 {
		return pos.Errorf(pos.NotFound, op, "no outstanding outbox op %d", id)
	}
	return nil
}
