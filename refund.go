package pos

import "time"

// RefundState is where a refund is in its life. Like a payment, a refund is
// journaled before it is sent and never sent twice: one whose answer is
// lost is queried until the gateway says what became of it.
type RefundState string

const (
	// RefundSubmitting: the refund is journaled with its OutRefundNo and may
	// be on the wire. After a crash it is queried, never sent again.
	RefundSubmitting RefundState = "submitting"
	// RefundProcessing: the gateway accepted the refund and is still
	// carrying it out. We query.
	RefundProcessing RefundState = "processing"
	// RefundUnknown: the submit or a query got no trustworthy answer. We
	// query, with backoff, until one comes.
	RefundUnknown RefundState = "unknown"
	// RefundSucceeded is final: the money went back to the customer.
	RefundSucceeded RefundState = "succeeded"
	// RefundFailed is final: nothing was refunded.
	RefundFailed RefundState = "failed"
	// RefundAttention is final for the till, and not a failure: the
	// acquirer said the operator must act (Refund.Alert says what), e.g.
	// Swiftpass CHANGE, where the wallet refund could not be made and the
	// money went to the merchant's account to be refunded offline. The
	// till stops asking, and the amount stays held, so it cannot be
	// refunded a second time through the wallet.
	RefundAttention RefundState = "attention"
)

// RefundStates lists every refund state, for validation and docs.
var RefundStates = []RefundState{RefundSubmitting, RefundProcessing, RefundUnknown, RefundSucceeded, RefundFailed, RefundAttention}

// Final reports whether s can never change again.
func (s RefundState) Final() bool {
	return s == RefundSucceeded || s == RefundFailed || s == RefundAttention
}

// Valid reports whether s is a known refund state.
func (s RefundState) Valid() bool {
	for _, v := range RefundStates {
		if s == v {
			return true
		}
	}
	return false
}

// Status is what the local API shows: the state itself when final
// ("succeeded", "failed", "attention"), else "pending".
func (s RefundState) Status() string {
	if s.Final() {
		return string(s)
	}
	return "pending"
}

// Holds reports whether a refund in state s counts against what is left to
// refund of its payment: every refund that is not failed, since a pending
// one may still succeed and one needing attention may have moved money.
func (s RefundState) Holds() bool { return s != RefundFailed }

// refundTransitions is the single table of allowed refund state changes;
// the journal refuses anything else. Self-transitions record a query that
// changed nothing.
var refundTransitions = map[RefundState][]RefundState{
	RefundSubmitting: {RefundSucceeded, RefundFailed, RefundProcessing, RefundUnknown, RefundAttention},
	RefundProcessing: {RefundProcessing, RefundUnknown, RefundSucceeded, RefundFailed, RefundAttention},
	RefundUnknown:    {RefundUnknown, RefundProcessing, RefundSucceeded, RefundFailed, RefundAttention},
}

// CanTransitionRefund reports whether from -> to is allowed.
func CanTransitionRefund(from, to RefundState) bool {
	for _, s := range refundTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// RefundTransitions returns a copy of the table, for docs and tests.
func RefundTransitions() map[RefundState][]RefundState {
	m := make(map[RefundState][]RefundState, len(refundTransitions))
	for k, v := range refundTransitions {
		m[k] = append([]RefundState(nil), v...)
	}
	return m
}

// RefundMethod is how a refund's money goes back to the customer.
type RefundMethod string

const (
	// RefundByRefund is the gateway's refund (the default; "" reads as it).
	RefundByRefund RefundMethod = "refund"
	// RefundByVoid is a void: the gateway cancels the sale itself
	// (Allinpay *_CANCEL, same acquirer day only), always for the whole
	// amount. It is a refund record because a succeeded payment never
	// leaves its final state; the record's gateway call is the void.
	RefundByVoid RefundMethod = "void"
)

// OrRefund is m, with the zero value read as RefundByRefund (records
// journaled before voids existed).
func (m RefundMethod) OrRefund() RefundMethod {
	if m == "" {
		return RefundByRefund
	}
	return m
}

// Valid reports whether m is a known method.
func (m RefundMethod) Valid() bool { return m == RefundByRefund || m == RefundByVoid }

// Refund is the journaled record of one refund of a succeeded payment. A
// payment may have several; those not failed never sum above its amount.
type Refund struct {
	ID        string // ours, "ref_..."; stable across restarts
	PaymentID string // the refunded payment
	// OutRefundNo is sent to the gateway as the refund's own number:
	// generated once, journaled before the submit, reused by every query.
	OutRefundNo string
	Amount      Money  // this refund, in the payment's currency
	Reason      string // the cashier's reason, sent to the gateway
	State       RefundState
	// Outcome is what the gateway last said: why the refund failed, or why
	// it is still pending.
	Outcome string
	// GatewayRefundID is the platform's id of the refund, once known.
	GatewayRefundID string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	SubmittedAt     time.Time
	// Queries counts the queries made, for their backoff.
	Queries int
	// Alert is set when the gateway said the operator must act about this
	// refund (state attention), or an answer contradicted the journal.
	Alert string
	// Resends counts how often the refund was sent again with the same
	// out_refund_no because the gateway asked for it (Swiftpass NOTSURE).
	Resends int
	// Method is how the money goes back: a refund, or a void of the sale.
	// Fixed once journaled.
	Method RefundMethod
}

// RefundEvent is one journaled refund transition: its append-only history.
type RefundEvent struct {
	Seq      int64
	RefundID string
	At       time.Time
	From     RefundState // "" for the creation
	To       RefundState
	Reason   string
	// Detail is a redacted summary of the exchange behind the transition.
	Detail string
	// Flag marks an event that records a mismatch or an alert.
	Flag Flag
	// Method is the refund's method (filled by the event feed).
	Method RefundMethod
}
