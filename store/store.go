// Package store defines the journal: the durable record of every payment,
// every state change, every gateway operation still owed (the outbox), and
// every receipt still owed to the printer (the print queue). Its SQLite
// implementation is store/sqlite.
//
// The rule the journal exists for: a state change is committed before the
// external action it leads to. Flows call Append, then the gateway; the
// receipts of a final state are journaled in the same Append as the state,
// then printed.
package store

import (
	"context"
	"errors"
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
	// Flag marks the event (a mismatch, an alert, a late charge). A change
	// with a Flag may be a self-transition of a final state: it records
	// the flag (and Payment.ChargedLate / Payment.Alert) and changes
	// nothing else about the payment.
	Flag pos.Flag
	// Enqueue adds outbox operations for this payment.
	Enqueue []Op
	// Done removes completed outbox operations by ID.
	Done []int64
	// Prints adds receipts to the print queue (PrintQueue) in the same
	// write, so a payment never becomes final without the receipts it
	// owes. A Journal that is not a PrintQueue refuses a Change with Prints.
	Prints []PrintJob
	// Idempotency, when set, records the API call's Idempotency-Key in the
	// same write (its PaymentID defaults to the payment's). A Journal that
	// is not an Idempotency store refuses a Change with one.
	Idempotency *IdempotencyKey
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
	// PaymentsBetween returns the payments created in [from, to), oldest
	// first: a day's business, for the end-of-day summary.
	PaymentsBetween(ctx context.Context, from, to time.Time) ([]pos.Payment, error)
	// Events returns a payment's history, oldest first.
	Events(ctx context.Context, paymentID string) ([]pos.Event, error)
	// DueOps returns outbox operations with NotBefore <= now, oldest first.
	DueOps(ctx context.Context, now time.Time) ([]Op, error)
	// Ops returns a payment's outstanding outbox operations.
	Ops(ctx context.Context, paymentID string) ([]Op, error)
	// RetryOp records a failed attempt: Attempts+1, LastError, new NotBefore.
	RetryOp(ctx context.Context, id int64, notBefore time.Time, lastErr string) error
	// FlagCounts counts the flagged events of payments and refunds by
	// flag, since the journal began (for metrics).
	FlagCounts(ctx context.Context) (map[pos.Flag]int, error)
	// Close releases the database.
	Close() error
}

// Receipt kinds a PrintJob names. A summary's kind carries its day:
// SummaryKind(day) is "summary-YYYYMMDD".
const (
	ReceiptCustomer = "payment-customer" // a payment's customer copy
	ReceiptMerchant = "payment-merchant" // a payment's merchant copy
	ReceiptVoid     = "void"             // the voucher of a reversed payment
	// A refund's copies; their jobs name the refund (PrintJob.RefundID)
	// as well as its payment.
	ReceiptRefundCustomer = "refund-customer"
	ReceiptRefundMerchant = "refund-merchant"
	// ReceiptTest is the support page's test print (no payment).
	ReceiptTest = "test"
)

// SummaryKind is the kind of the end-of-day summary of day (its date in
// day's location).
func SummaryKind(day time.Time) string { return "summary-" + day.Format("20060102") }

// PrintJob is one receipt owed to the printer. It names what to print (a
// payment and a receipt kind), not printer bytes: the receipt is rendered
// from the journal when it is printed, for the printer configured then.
type PrintJob struct {
	ID int64
	// PaymentID is the payment the receipt is about; empty for a receipt
	// of no single payment (a summary).
	PaymentID string
	// Kind is ReceiptCustomer, ReceiptMerchant, ReceiptVoid,
	// ReceiptRefundCustomer, ReceiptRefundMerchant or a SummaryKind.
	Kind string
	// RefundID names the refund a refund receipt is about (its PaymentID
	// is the refunded payment); empty for every other kind.
	RefundID string
	// Reprint marks a copy asked for after the first (printed as such).
	Reprint   bool
	CreatedAt time.Time
	// NotBefore is when the next attempt is due; zero means at once.
	NotBefore time.Time
	Attempts  int
	LastError string
	// PrintedAt is when the printer took the receipt; zero while pending.
	PrintedAt time.Time
}

// Printed reports whether the job is done.
func (j PrintJob) Printed() bool { return !j.PrintedAt.IsZero() }

// PrintQueue is the journal's print queue: receipts are enqueued (with a
// payment's final state through Change.Prints, or on their own), printed
// in order, and marked printed once the printer has them. A job that
// cannot print stays pending with its attempts and last error, across
// restarts, until it prints.
type PrintQueue interface {
	// EnqueuePrints adds jobs in one write and returns them with their IDs
	// and CreatedAt set (to at, unless set). A PaymentID that is not a
	// journaled payment is pos.NotFound.
	EnqueuePrints(ctx context.Context, at time.Time, jobs []PrintJob) ([]PrintJob, error)
	// PendingPrints returns every job not yet printed, in the order they
	// were enqueued.
	PendingPrints(ctx context.Context) ([]PrintJob, error)
	// PrintJobs returns a payment's jobs, printed or not, in order; its
	// refunds' receipts are listed by RefundJournal.RefundPrintJobs.
	PrintJobs(ctx context.Context, paymentID string) ([]PrintJob, error)
	// MarkPrinted records that job id printed at at. An unknown id is
	// pos.NotFound; one already printed is pos.Conflict.
	MarkPrinted(ctx context.Context, id int64, at time.Time) error
	// RetryPrint records a failed attempt: Attempts+1, LastError (already
	// redacted), and when the next attempt is due. An unknown or printed id
	// is pos.NotFound.
	RetryPrint(ctx context.Context, id int64, notBefore time.Time, lastErr string) error
}

// RefundOpKind names a gateway operation owed for a refund: a query, or
// the rare resend the gateway asks for.
type RefundOpKind string

// RefundOpQuery asks the gateway what became of a refund. A refund is
// submitted once, inline, right after it is journaled; everything after
// that is a query.
const RefundOpQuery RefundOpKind = "query"

// RefundOpResend sends the same refund again, with the same
// out_refund_no: only when the gateway asked for it (Swiftpass NOTSURE),
// never because an answer was lost.
const RefundOpResend RefundOpKind = "resend"

// RefundOp is one row of the refund outbox: a query to make at or after
// NotBefore. Refunds have an outbox of their own, apart from payments', so
// the payment runner never meets an operation it does not own.
type RefundOp struct {
	ID        int64
	RefundID  string
	Kind      RefundOpKind
	NotBefore time.Time
	CreatedAt time.Time
}

// RefundChange is one atomic journal write for a refund: its new snapshot,
// the event that explains it, the outbox rows it adds and completes, and
// the receipts it owes. All of it is durable when AppendRefund returns nil,
// or none of it is.
type RefundChange struct {
	Refund pos.Refund
	// From is the state the refund must be in now (compare-and-set); the
	// empty state creates the refund.
	From   pos.RefundState
	Reason string
	Detail string // already redacted
	At     time.Time
	// Flag marks the event (a mismatch, an alert).
	Flag pos.Flag
	// Enqueue adds refund outbox operations; Done removes them by ID.
	Enqueue []RefundOp
	Done    []int64
	// Prints adds the refund's receipts (Kind ReceiptRefund*, RefundID and
	// PaymentID default to the refund's) in the same write.
	Prints []PrintJob
	// Idempotency, when set, records the API call's Idempotency-Key in the
	// same write (its RefundID and PaymentID default to the refund's).
	Idempotency *IdempotencyKey
}

// ErrNumberUsed is wrapped by the pos.Conflict error of a write whose
// gateway number (an out_refund_no) is taken already, so the caller can
// draw another rather than give up.
var ErrNumberUsed = errors.New("gateway number already used")

// RefundJournal is the durable record of refunds (store/sqlite implements
// it beside Journal and PrintQueue).
type RefundJournal interface {
	// AppendRefund applies a RefundChange. A creation (From "") is refused
	// with pos.Conflict unless the payment is succeeded and the refunds
	// not failed, this one included, sum to at most the payment's amount;
	// that rule is checked inside the same write transaction, so two
	// refunds racing for the last of an amount cannot both be journaled. A
	// currency other than the payment's is pos.Invalid; an unknown payment
	// pos.NotFound. A transition is compare-and-set on From (pos.Conflict)
	// along pos.CanTransitionRefund (pos.Invalid otherwise).
	AppendRefund(ctx context.Context, c RefundChange) error
	// Refund returns one refund by ID, or a pos.NotFound error.
	Refund(ctx context.Context, id string) (pos.Refund, error)
	// RefundsOf returns a payment's refunds, oldest first.
	RefundsOf(ctx context.Context, paymentID string) ([]pos.Refund, error)
	// PendingRefunds returns every refund not final, oldest first.
	PendingRefunds(ctx context.Context) ([]pos.Refund, error)
	// RefundsBetween returns the refunds created in [from, to), oldest
	// first, for the end-of-day summary.
	RefundsBetween(ctx context.Context, from, to time.Time) ([]pos.Refund, error)
	// RefundEvents returns a refund's history, oldest first.
	RefundEvents(ctx context.Context, refundID string) ([]pos.RefundEvent, error)
	// DueRefundOps returns refund outbox operations with NotBefore <= now,
	// oldest first.
	DueRefundOps(ctx context.Context, now time.Time) ([]RefundOp, error)
	// RefundOps returns a refund's outstanding outbox operations.
	RefundOps(ctx context.Context, refundID string) ([]RefundOp, error)
	// RefundPrintJobs returns a refund's receipts, printed or not, in order.
	RefundPrintJobs(ctx context.Context, refundID string) ([]PrintJob, error)
}
