package pos

import "time"

// Method is how the customer pays.
type Method string

const (
	// Micropay: the customer shows a payment code, the till scans it (反扫).
	Micropay Method = "micropay"
	// MerchantQR: the till shows a code_url as a QR, the customer scans it (正扫).
	MerchantQR Method = "qr"
)

// ParseMethod validates a method name.
func ParseMethod(s string) (Method, error) {
	switch Method(s) {
	case Micropay, MerchantQR:
		return Method(s), nil
	}
	return "", Errorf(Invalid, "pos.ParseMethod", "unknown method %q (want micropay or qr)", s)
}

// Payment is the journaled record of one payment. It never holds a full
// payment code: only the wallet, a masked form and a keyed hash.
type Payment struct {
	ID         string // ours, "pay_..."; stable across restarts
	OutTradeNo string // sent to the gateway; generated once, reused on every retry and query
	Gateway    string // configured gateway name ("mmsp")
	Method     Method
	Amount     Money
	Wallet     Wallet
	CodeMasked string // "13************6789"
	CodeHash   string // HMAC-SHA256 of the code under the install's key, hex
	State      State
	Reason     string // why it failed, or why it was reversed
	// TransactionID is the platform's id once known.
	TransactionID string
	// CodeURL is the merchant-presented QR payload (method qr); a bearer
	// link, so it is redacted from logs.
	CodeURL Secret
	// CancelRequested is set when the cashier cancels while a call is in
	// flight; the runner reverses once the call returns.
	CancelRequested bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
	SubmittedAt     time.Time // zero until the submit is journaled
	// AnsweredAt is when the submit's answer came back (or the call ended
	// without one). Rules of the form "not sooner than N after the pay"
	// (reverse-after, close-after) are timed from it, never from
	// SubmittedAt, which is stamped before the call: a slow answer would
	// otherwise eat the margin the spec asks for.
	AnsweredAt time.Time
	// LastQueryAt is when the last query (or the submit, before any query)
	// ended; the next query of this payment is never due sooner than the
	// gateway's MinPollInterval after it, across restarts too.
	LastQueryAt time.Time
	// Deadline is when the runner stops waiting for the customer and
	// reverses (or closes).
	Deadline time.Time
	// Polls counts queries made, for the gateway's query budget.
	Polls int
	// Description is the goods name sent to the gateway.
	Description string
	// ReadFailed is set when a query read a merchant-QR order failed
	// (Swiftpass PAYERROR, MMSP STATUS 2) and the order is being closed:
	// such an order may still be paid until it is closed, so the payment
	// ends failed only once the close succeeds (or the order reads
	// closed), and succeeded if it is paid on the way.
	ReadFailed bool
	// ChargedLate flags a payment the till had ended failed or reversed
	// for which the gateway later gave a verified "paid" (an answer or a
	// notification): the customer was charged after the till gave up.
	// The state stays as it was (the sale was not completed at the till);
	// the payment may be refunded, for at most its amount.
	ChargedLate bool
	// External marks a payment the till did not start: an order placed
	// elsewhere (a HipoPay mini-program) and adopted into the journal when
	// the gateway verified it paid, so the till can show, refund and
	// reprint it and count it in the summary. It is journaled succeeded.
	External bool
	// Alert is set when the gateway said the operator must act (or an
	// answer about this payment contradicted the journal): the last such
	// message, for the API and the logs. Empty when all is well.
	Alert string
	// Reference is the till's own order id, if it gave one: stored,
	// returned and searchable, never sent to the gateway.
	Reference string
	// Lane names the scanners and display of the till the payment was
	// taken at ("" is the default lane); one payment per lane waits for a
	// scan at a time.
	Lane string
}

// Flag names why an event was recorded besides (or instead of) a state
// change, so the events can be counted (metrics) and found (support).
type Flag string

const (
	// FlagMismatch: an answer or notification named another order, amount,
	// currency or refund than the journal holds (or the adapter said so);
	// it was treated as no answer at all.
	FlagMismatch Flag = "mismatch"
	// FlagAlert: the gateway said the operator must act (gateways.Result.Alert).
	FlagAlert Flag = "alert"
	// FlagChargedLate: a verified "paid" for a payment already ended failed
	// or reversed (Payment.ChargedLate).
	FlagChargedLate Flag = "charged_late"
)

// Flags lists every flag, for validation and docs.
var Flags = []Flag{FlagMismatch, FlagAlert, FlagChargedLate}

// Valid reports whether f is a known flag; the empty flag is valid (no flag).
func (f Flag) Valid() bool {
	if f == "" {
		return true
	}
	for _, v := range Flags {
		if f == v {
			return true
		}
	}
	return false
}

// Event is one journaled transition: the append-only history of a payment.
type Event struct {
	Seq       int64
	PaymentID string
	At        time.Time
	From      State
	To        State
	Reason    string
	// Detail is a redacted summary of the request or response that caused
	// the transition ("mmsp 2307 RetCode=0 STATUS=USERPAYING").
	Detail string
	// Flag is set on an event that records a mismatch, an alert or a late
	// charge; empty otherwise.
	Flag Flag
}

// Refundable reports whether p may be refunded: it succeeded, or it was
// charged after the till had ended it failed or reversed (ChargedLate), so
// the customer's money is with the merchant either way. The refunds of a
// payment never sum above its amount.
func Refundable(p Payment) bool {
	return p.State == StateSucceeded || (p.ChargedLate && (p.State == StateFailed || p.State == StateReversed))
}
