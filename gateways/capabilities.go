package gateways

import (
	"slices"
	"time"

	"github.com/posagent/posagent"
)

// Operation names an optional gateway operation.
type Operation string

const (
	OpMicropay    Operation = "micropay"
	OpMerchantQR  Operation = "merchant_qr"
	OpQuery       Operation = "query"
	OpReverse     Operation = "reverse"
	OpClose       Operation = "close"
	OpRefund      Operation = "refund"
	OpQueryRefund Operation = "query_refund"
	OpNotify      Operation = "notify"
	OpBill        Operation = "bill"
)

// Capabilities declares what a gateway can do. Flows and the local API check
// it before journaling anything, so "this gateway cannot take QQ Wallet
// micropay" is an Invalid error, not a failed payment.
type Capabilities struct {
	Micropay   []pos.Wallet   // wallets whose payment codes it can charge
	MerchantQR []pos.Wallet   // wallets it can create merchant QR orders for
	Currencies []pos.Currency // currencies it accepts; empty means CNY only
	Reverse    bool
	Close      bool
	// CloseWallets limits Close to these wallets' merchant-QR orders (the
	// specs exclude some: Swiftpass and Allinpay close WeChat and Alipay
	// orders only, UnionPay's expire by themselves). Empty means every
	// wallet in MerchantQR; use CanClose rather than reading it.
	CloseWallets []pos.Wallet
	Refund       bool
	// PartialRefund: several refunds may sum to at most the original.
	PartialRefund bool
	Notify        bool // signed asynchronous payment notifications
	Bill          bool // reconciliation file download
	// External: orders are placed outside the till (a HipoPay
	// mini-program). The flows adopt one into the journal when the
	// gateway verifies it paid: by a notification, or when the cashier
	// looks it up (Query by out_trade_no or the platform's number).
	External bool
}

// Supports reports whether the gateway can take this method and wallet.
func (c Capabilities) Supports(m pos.Method, w pos.Wallet) bool {
	switch m {
	case pos.Micropay:
		return slices.Contains(c.Micropay, w)
	case pos.MerchantQR:
		return slices.Contains(c.MerchantQR, w)
	}
	return false
}

// CanClose reports whether a merchant-QR order of wallet w may be closed.
// An order that may not is polled until it expires.
func (c Capabilities) CanClose(w pos.Wallet) bool {
	if !c.Close {
		return false
	}
	return len(c.CloseWallets) == 0 || slices.Contains(c.CloseWallets, w)
}

// Accepts reports whether the gateway takes this currency.
func (c Capabilities) Accepts(cur pos.Currency) bool {
	if len(c.Currencies) == 0 {
		return cur == "CNY"
	}
	return slices.Contains(c.Currencies, cur)
}

// Timing is a gateway's rules for following up a payment. Spec minimums are
// the adapter's defaults; configs refuse tighter values for real endpoints,
// and only the simulators run faster.
type Timing struct {
	// PollInterval is the wait between queries of a pending payment.
	PollInterval time.Duration
	// MinPollInterval is the spec's lower bound for PollInterval.
	MinPollInterval time.Duration
	// PayTimeout is how long the customer has to confirm a micropay before
	// the agent reverses it.
	PayTimeout time.Duration
	// QRTimeout is how long a merchant QR stays payable before the agent
	// closes it.
	QRTimeout time.Duration
	// ReverseAfter is the earliest a reverse may follow the submit (MMSP: 15 s).
	ReverseAfter time.Duration
	// CloseAfter is the earliest a close may follow the order (Swiftpass: 5 min).
	CloseAfter time.Duration
	// CallTimeout bounds one HTTP exchange.
	CallTimeout time.Duration
	// RetryBackoff is the first wait before retrying a reverse or close that
	// could not reach the gateway; it doubles up to RetryBackoffMax.
	RetryBackoff    time.Duration
	RetryBackoffMax time.Duration
}

// WithDefaults fills zero fields with conservative values.
func (t Timing) WithDefaults() Timing {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&t.MinPollInterval, 5*time.Second)
	def(&t.PollInterval, max(t.MinPollInterval, 5*time.Second))
	def(&t.PayTimeout, 60*time.Second)
	def(&t.QRTimeout, 5*time.Minute)
	def(&t.CallTimeout, 15*time.Second)
	def(&t.RetryBackoff, 5*time.Second)
	def(&t.RetryBackoffMax, 5*time.Minute)
	return t
}
