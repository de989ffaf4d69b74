package gateways

import (
	"context"
	"math/big"
	"time"

	"github.com/posagent/posagent"
)

// ForexQuoter is an extra a gateway may offer, found by type assertion
// (STYLE.md): its reference exchange rate to CNY, so a display can show a
// foreign-currency amount's CNY equivalent (HipoPay's forex_rate). It
// informs the customer; it never decides what is charged.
type ForexQuoter interface {
	ForexQuote(ctx context.Context, cur pos.Currency) (ForexQuote, error)
}

// ForexQuote is one reference rate: CNY per one unit of Currency, exactly,
// and when it was read from the gateway.
type ForexQuote struct {
	Currency   pos.Currency
	CNYPerUnit *big.Rat
	At         time.Time
}
