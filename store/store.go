// Package store defines the journal: the durable record of every payment,
// every state change, and every gateway operation still owed (the outbox).
// Its SQLite implementation is store/sqlite.
//
// The rule the journal exists for: a state change is committed before the
// external action it leads to. Flows call Append, then the gateway.
package store

import (
	"context"
	"time"

	"github.com/posagent/posagent"
)

// OpKind names a gateway operation owed for a payment.
type OpKind string

const (
	OpQuery   OpKind = "query"   // ask the gateway for the outcome
	OpReverse OpKind = "reverse" // reverse (撤销) a micropay
	OpClose   OpKind = "close"   // close an unpaid merchant-QR order
)

// Op is one row of the outbox: a gateway operation to perform at or after
// NotBefore, retried with backoff until a later Append marks it done.
type Op struct {
	ID        int64
	PaymentID string
	Kind      OpKind
	NotBefore time.Time
	Attempts  int
	LastError string
	CreatedAt time.Time
}

// Change is one atomic journal write: the payment's new snapshot, the event
// that explains it, and the outbox rows it adds and completes. Either all of
// it is durable when Append returns nil, or none of it is.
type Change struct {
	// Payment is the full new snapshot; Payment.State is the state after
	// the change.
	Payment pos.Payment
	// From is the state the payment must be in now (compare-and-set); the
	// empty state means the payment must not exist yet (creation).
	From pos.State
	// Reason and Detail become the event's; Detail must already be redacted.
	Reason string
	Detail string
	At     time.Time
	// Enqueue adds outbox operations for this payment.
	Enqueue []Op
	// Done removes completed outbox operations by ID.
	Done []int64
}

// Journal is the durable record. Implementations must make Append atomic and
// durable (fsync'd) before returning.
type Journal interface {
	// Append applies a Change. It returns a pos.Conflict error when the
	// payment is not in Change.From (or exists, for a creation), and a
	// pos.Invalid error when From -> Payment.State is not in the
	// transition table; a self-transition records an event only.
	Append(ctx context.Context, c Change) error
	// Payment returns one payment by ID, or a pos.NotFound error.
	Payment(ctx context.Context, id string) (pos.Payment, error)
	// PaymentByOutTradeNo returns one payment by our gateway order number.
	PaymentByOutTradeNo(ctx context.Context, outTradeNo string) (pos.Payment, error)
	// Pending returns every payment not in a final state, oldest first.
	Pending(ctx context.Context) ([]pos.Payment, error)
	// Recent returns up to limit payments, newest first.
	Recent(ctx context.Context, limit int) ([]pos.Payment, error)
	// Events returns a payment's history, oldest first.
	Events(ctx context.Context, paymentID string) ([]pos.Event, error)
	// DueOps returns outbox operations with NotBefore <= now, oldest first.
	DueOps(ctx context.Context, now time.Time) ([]Op, error)
	// Ops returns a payment's outstanding outbox operations.
	Ops(ctx context.Context, paymentID string) ([]Op, error)
	// RetryOp records a failed attempt: Attempts+1, LastError, new NotBefore.
	RetryOp(ctx context.Context, id int64, notBefore time.Time, lastErr string) error
	// Close releases the database.
	Close() error
}
