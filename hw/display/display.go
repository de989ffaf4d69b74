// Package display defines the customer-facing display: what the customer
// sees while paying. Implementations (terminal, pole display, web page) live
// in subpackages; this package holds the interface and the screens.
package display

import (
	"context"
	"time"

	"github.com/posagent/posagent"
)

// ScreenKind is which screen to show.
type ScreenKind string

const (
	Idle       ScreenKind = "idle"        // welcome / nothing to pay
	ScanPrompt ScreenKind = "scan_prompt" // amount due, "show your payment code"
	ShowQR     ScreenKind = "show_qr"     // amount due and a merchant QR to scan
	Processing ScreenKind = "processing"  // submitted, or waiting for the customer to confirm
	Result     ScreenKind = "result"      // final state
	Rejected   ScreenKind = "rejected"    // a scan was refused; Outcome says why
	Refunded   ScreenKind = "refunded"    // a refund went through; Amount is the refund
	// Withdrawn: the cashier cancelled a merchant-QR order the gateway
	// cannot close (it stays payable until it expires, and the till polls
	// it meanwhile). The QR is taken off the screen and the customer is
	// asked not to pay it; a payment that still comes is refunded.
	Withdrawn ScreenKind = "withdrawn"
)

// Screen is one full state of the display; each Show replaces the last.
type Screen struct {
	Kind      ScreenKind
	PaymentID string
	Amount    pos.Money
	Wallet    pos.Wallet
	State     pos.State
	// QR is the merchant-presented payload to render (ShowQR). It is a
	// bearer link, hence a Secret: displays reveal it, logs do not.
	QR pos.Secret
	// Message is the flows' own line ("Payment failed: ..."). It may carry
	// a gateway's wording, so customer displays do not show it: they say
	// what happened from Kind, State and Outcome in the customer's words
	// (Words). It stays for logs and test output.
	Message string
	// Expires is when the customer's time runs out: the merchant QR
	// order's expiry (ShowQR) or the wait for the customer's confirmation
	// (Processing while the payment is user_paying). Zero: no countdown.
	Expires time.Time
	// Outcome says, for Result and Rejected screens, why in terms a
	// customer can act on. Empty: derived from State.
	Outcome Outcome
}

// Outcome is what became of a payment or a scan, in terms of what the
// customer should know: never a wire code or an error text.
type Outcome string

const (
	// OutcomePaid: the money was taken.
	OutcomePaid Outcome = "paid"
	// OutcomeNotCharged: the payment failed and no money moved.
	OutcomeNotCharged Outcome = "not_charged"
	// OutcomeReversed: the payment was cancelled; any charge is returned.
	OutcomeReversed Outcome = "reversed"
	// OutcomeUnreadable: the scanned code is not a payment code.
	OutcomeUnreadable Outcome = "unreadable"
	// OutcomeWalletNotAccepted: the wallet is not taken here.
	OutcomeWalletNotAccepted Outcome = "wallet_not_accepted"
	// OutcomeRefunded: a refund went through.
	OutcomeRefunded Outcome = "refunded"
	// OutcomeTillUnavailable: the till refused to start the payment
	// (its journal's disk is nearly full), before anything was sent; the
	// customer should pay another way.
	OutcomeTillUnavailable Outcome = "till_unavailable"
)

// OutcomeOf is s's outcome: Outcome when set, else what Kind and State
// say.
func OutcomeOf(s Screen) Outcome {
	if s.Outcome != "" {
		return s.Outcome
	}
	switch s.Kind {
	case Rejected:
		return OutcomeUnreadable
	case Refunded:
		return OutcomeRefunded
	case Result:
		switch s.State {
		case pos.StateSucceeded:
			return OutcomePaid
		case pos.StateReversed:
			return OutcomeReversed
		}
		return OutcomeNotCharged
	}
	return ""
}

// Display shows screens to the customer.
type Display interface {
	Show(ctx context.Context, s Screen) error
}
