package store

import (
	"context"
	"time"
)

// OutboxAdmin is the operator's view of the outboxes (store/sqlite
// implements it beside Journal and RefundJournal): every gateway operation
// still owed, and "try it now". Resolving an operation by hand is not
// here: it is a journal write (Append, AppendRefund) like any other
// decision, so it is journaled as an event and moves the payment only along
// the transition table.
type OutboxAdmin interface {
	// AllOps returns every outstanding payment outbox operation, oldest
	// first (by ID).
	AllOps(ctx context.Context) ([]Op, error)
	// AllRefundOps returns every outstanding refund outbox operation,
	// oldest first (by ID).
	AllRefundOps(ctx context.Context) ([]RefundOp, error)
	// RetryOpNow makes payment op id due at at, without counting an
	// attempt. An id that is not outstanding is pos.NotFound.
	RetryOpNow(ctx context.Context, id int64, at time.Time) error
	// RetryRefundOpNow does the same for refund op id.
	RetryRefundOpNow(ctx context.Context, id int64, at time.Time) error
}
