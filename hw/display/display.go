// Package display defines the customer-facing display: what the customer
// sees while paying. Implementations (terminal, pole display, web page) live
// in subpackages; this package holds the interface and the screens.
package display

import (
	"context"

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
	Rejected   ScreenKind = "rejected"    // a scan was refused; Message says why
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
	// Message is a short line for the customer ("Confirm on your phone").
	Message string
}

// Display shows screens to the customer.
type Display interface {
	Show(ctx context.Context, s Screen) error
}
