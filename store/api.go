package store

import (
	"context"
	"errors"
	"time"

	"github.com/posagent/posagent"
)

// IdempotencyKey is the record of one Idempotency-Key sent with a creating
// API call: the key, the fingerprint of the request it came with (so the
// same key with another body is recognised), what it created, and the
// first answer once it was sent.
//
// The record of a call that creates a payment or a refund, or changes a
// payment (cancel), is journaled in the same write as what it did
// (Change.Idempotency, RefundChange.Idempotency), so a key is never
// recorded without its effect nor the effect without its key.
type IdempotencyKey struct {
	Key         string
	Fingerprint string
	// PaymentID and RefundID name what the call created or changed.
	PaymentID string
	RefundID  string
	// Status and Response are the first answer; Status 0 until recorded.
	Status    int
	Response  []byte
	CreatedAt time.Time
}

// ErrKeyUsed is wrapped by the pos.Conflict error of a write whose
// Idempotency-Key is recorded already (by a concurrent call).
var ErrKeyUsed = errors.New("idempotency key already used")

// Idempotency stores Idempotency-Keys (store/sqlite implements it beside
// Journal).
type Idempotency interface {
	// IdempotencyKey returns the record of key, or a pos.NotFound error.
	IdempotencyKey(ctx context.Context, key string) (IdempotencyKey, error)
	// SaveIdempotencyKey records a key on its own, for a call whose effect
	// is journaled elsewhere (a reprint). A key recorded already is a
	// pos.Conflict wrapping ErrKeyUsed.
	SaveIdempotencyKey(ctx context.Context, k IdempotencyKey) error
	// RecordAnswer stores the first answer to key's call. An unknown key is
	// pos.NotFound; an answer recorded already is kept (first wins).
	RecordAnswer(ctx context.Context, key string, status int, body []byte) error
}

// PaymentFilter selects payments for PaymentLister. Zero fields select
// everything; States matches any of its states.
type PaymentFilter struct {
	States    []pos.State
	Method    pos.Method
	Wallet    pos.Wallet
	Gateway   string
	Reference string
	// CreatedFrom and CreatedTo bound CreatedAt to [from, to).
	CreatedFrom time.Time
	CreatedTo   time.Time
	// After continues a listing after the payment (CreatedAt, ID) it
	// names: the cursor of the page before.
	After *PaymentCursor
	// Limit is the page size; it must be positive.
	Limit int
}

// PaymentCursor is a position in the newest-first order of payments.
type PaymentCursor struct {
	CreatedAt time.Time
	ID        string
}

// PaymentLister lists payments by filter, newest first (CreatedAt, then
// ID, descending).
type PaymentLister interface {
	ListPayments(ctx context.Context, f PaymentFilter) ([]pos.Payment, error)
}

// EventFeed reads the journal's histories in the order they were written,
// for the API's event stream: a reader that remembers the last Seq of each
// resumes where it stopped, across restarts of either side.
type EventFeed interface {
	// EventsAfter returns up to limit payment events with Seq > after,
	// in Seq order.
	EventsAfter(ctx context.Context, after int64, limit int) ([]pos.Event, error)
	// RefundEventsAfter does the same for refund events.
	RefundEventsAfter(ctx context.Context, after int64, limit int) ([]pos.RefundEvent, error)
}
