// Package gateways defines what posagent needs from an acquirer: normalised
// requests and results, declared capabilities, timing rules, and a registry
// of adapters by kind. Each acquirer's wire format and signing live in its
// own subpackage (gateways/mmsp, gateways/allinpay, ...); flows see only this
// package.
package gateways

import (
	"context"
	"time"

	"github.com/posagent/posagent"
)

// Status is the normalised outcome of a gateway call. The zero value is
// StatusUnknown on purpose: a result nobody filled in must never read as
// success or as a safe failure.
type Status int

const (
	// StatusUnknown: no trustworthy answer; query, never pay again.
	StatusUnknown Status = iota
	// StatusSucceeded: the operation completed (paid, reversed, refunded, closed).
	StatusSucceeded
	// StatusUserPaying: the customer is still confirming, or the operation is
	// still in progress at the gateway; ask again later.
	StatusUserPaying
	// StatusFailed: definitively not done; Reason says why. For a payment
	// this means nothing was charged.
	StatusFailed
)

func (s Status) String() string {
	switch s {
	case StatusSucceeded:
		return "succeeded"
	case StatusUserPaying:
		return "user_paying"
	case StatusFailed:
		return "failed"
	}
	return "unknown"
}

// Result is the normalised answer to any operation. Adapters fill what their
// gateway reports and leave the rest zero; they never put wire detail here
// except in Detail, which is a redacted one-line summary for the journal.
type Result struct {
	Status        Status
	TransactionID string     // the platform's transaction id, when known
	Wallet        pos.Wallet // as reported by the gateway, when known
	Amount        pos.Money  // as reported by the gateway, when known
	Code          string     // the gateway's own status or error code
	Reason        string     // human-readable reason for Failed (and for Unknown when known)
	PaidAt        time.Time  // when the gateway says the customer paid
	CodeURL       pos.Secret // merchant-presented QR payload (CreateQR)
	RefundID      string     // the platform's refund id (Refund, QueryRefund)
	// Detail is a redacted summary of the exchange: command, return codes,
	// status. Never a payment code, key or full QR payload.
	Detail string

	// What the answer says it is about, so the flows can check it against
	// the journaled order before adopting anything (STYLE.md, "trust nothing
	// you did not ask about"). Empty or zero when the answer does not say.
	// Amount above is the order's amount as the answer reports it.
	OutTradeNo   string    // the order number the answer names
	OutRefundNo  string    // the refund number the answer names
	RefundAmount pos.Money // the refund's amount as the answer reports it
	// Mismatch is set by an adapter whose answer names another merchant,
	// terminal or order than the one asked about (Status is then Unknown):
	// a short description for the alert, never adopted as ours.
	Mismatch string
	// Alert is set when the operator must act whatever the status: e.g. a
	// refund the acquirer moved to an offline refund (Swiftpass CHANGE).
	Alert string
	// Resend is set when the spec asks for the same request to be sent
	// again with the same numbers (Swiftpass refund NOTSURE); it is only
	// meaningful with StatusUnknown.
	Resend bool
}

// MicropayRequest charges a customer-presented payment code (反扫).
type MicropayRequest struct {
	OutTradeNo  string // our idempotency key; one per payment, reused on every retry
	Amount      pos.Money
	Code        pos.AuthCode
	Description string // goods name; adapters truncate to the wire limit
}

// QRRequest creates a merchant-presented QR order (正扫).
type QRRequest struct {
	OutTradeNo  string
	Amount      pos.Money
	Wallet      pos.Wallet
	Description string
	// Expires is when the order stops accepting payment; zero for the
	// gateway's default.
	Expires time.Time
}

// OrderRef names an existing order for query, reverse and close.
type OrderRef struct {
	OutTradeNo    string
	TransactionID string // when known; some gateways prefer it
	Wallet        pos.Wallet
	Method        pos.Method
	Amount        pos.Money // the original amount; some gateways require it on reverse
	// SubmittedAt is when the order was created; adapters of gateways whose
	// reverse or close depends on the day use it.
	SubmittedAt time.Time
}

// RefundRequest refunds part or all of a succeeded payment.
type RefundRequest struct {
	Order       OrderRef
	OutRefundNo string    // our idempotency key for this refund
	Amount      pos.Money // this refund; the original is Order.Amount
	Reason      string
}

// Gateway is the core every adapter implements. Further operations are
// separate interfaces below, found by type assertion and declared in
// Capabilities, so a gateway that cannot do something says so clearly.
type Gateway interface {
	// Kind is the adapter's registered kind ("mmsp").
	Kind() string
	// Capabilities declares what the gateway can do, per wallet.
	Capabilities() Capabilities
	// Timing is the gateway's rules for polling, reversing and closing.
	Timing() Timing
	// Query asks for the state of a payment order.
	Query(ctx context.Context, ref OrderRef) (Result, error)
}

// Micropayer takes customer-presented payment codes.
type Micropayer interface {
	Micropay(ctx context.Context, req MicropayRequest) (Result, error)
}

// Reverser cancels a payment whether or not it was paid (撤销): the way out of
// a micropay whose outcome is unknown.
type Reverser interface {
	Reverse(ctx context.Context, ref OrderRef) (Result, error)
}

// Closer closes an unpaid order so it can no longer be paid.
type Closer interface {
	Close(ctx context.Context, ref OrderRef) (Result, error)
}

// QRCreator creates merchant-presented QR orders.
type QRCreator interface {
	CreateQR(ctx context.Context, req QRRequest) (Result, error)
}

// Refunder refunds succeeded payments and reports on refunds.
type Refunder interface {
	Refund(ctx context.Context, req RefundRequest) (Result, error)
	QueryRefund(ctx context.Context, req RefundRequest) (Result, error)
}

// Voider voids a paid order in full: the gateway cancels the sale instead
// of refunding it (Allinpay *_CANCEL, §1.5.2.4: same acquirer day only).
// The flows journal a void as a refund record (pos.RefundByVoid) whose
// OutRefundNo is the void's own number, so its results read as a refund's:
// Succeeded voided (the money is back), Failed not voided and never will
// be by this request (nothing moved), UserPaying in progress, Unknown no
// trustworthy answer (query; Resend to send the same void again, which a
// void allows: it can only take money back).
type Voider interface {
	// Voidable reports whether the paid order ref may be voided at now.
	Voidable(ref OrderRef, now time.Time) bool
	// Void sends the void of req.Order; req.OutRefundNo is its number and
	// req.Amount the whole amount.
	Void(ctx context.Context, req RefundRequest) (Result, error)
	// QueryVoid asks what became of the void req.
	QueryVoid(ctx context.Context, req RefundRequest) (Result, error)
}

// Errors. Adapters return a *pos.Error whose Kind tells the caller what to do:
//   - pos.Invalid: the request was refused before sending (field rules);
//   - pos.Unavailable: nothing was sent (connection refused, DNS): retry is safe;
//   - pos.Unknown: sent, but no trustworthy answer (timeout, HTTP 5xx,
//     malformed body, bad signature): query, never pay again.
// A gateway's definitive refusal is not an error: it is a Result with
// StatusFailed and a Reason.
