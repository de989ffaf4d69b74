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
	// Deadline is when the runner stops waiting for the customer and
	// reverses (or closes).
	Deadline time.Time
	// Polls counts queries made, for the gateway's query budget.
	Polls int
	// Description is the goods name sent to the gateway.
	Description string
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
}
