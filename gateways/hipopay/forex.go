package hipopay

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// ForexRate is the platform's reference exchange rate of a currency (GET
// /wechatpay/forex_rate), "target currency / CNY": units of Currency per
// one CNY (the spec's USD example, 0.149..., is about 1/6.7). It is a
// reference only: "The actual rate should be the live exchange rate when
// transaction occurs."
type ForexRate struct {
	Currency pos.Currency
	// Rate is the rate as an exact rational (the platform sends up to 28
	// decimals; a float would round them).
	Rate *big.Rat
	// Text is the rate exactly as written.
	Text string
}

// ForexRate asks the reference rate of cur. A currency the platform does
// not support (CURRENCY_NOT_SUPPORT) is a pos.Invalid error; transport and
// signature failures are pos.Unavailable (not sent) or pos.Unknown.
func (c *Client) ForexRate(ctx context.Context, cur pos.Currency) (ForexRate, error) {
	const op = "hipopay.ForexRate"
	if !cur.Valid() {
		return ForexRate{}, pos.Errorf(pos.Invalid, op, "unsupported currency %q", cur)
	}
	a, env, err := c.call(ctx, op, http.MethodGet, PathForex, c.opts.Version, Params{"currency": string(cur)})
	if err != nil {
		return ForexRate{}, err
	}
	if !env.success {
		kind := pos.Unknown
		if env.errCode == ErrCurrencyNotSupported || env.errCode == ErrIllegalSecurity {
			kind = pos.Invalid
		}
		return ForexRate{}, pos.Errorf(kind, op, "%s", reason(env))
	}
	if a["currency"] != string(cur) {
		return ForexRate{}, pos.Errorf(pos.Unknown, op, "answer is for currency %q, not %s", a["currency"], cur)
	}
	r, err := ParseRate(a["forex_rate"])
	if err != nil {
		return ForexRate{}, pos.E(pos.Unknown, op, fmt.Errorf("malformed answer: %w", err))
	}
	return ForexRate{Currency: cur, Rate: r, Text: a["forex_rate"]}, nil
}

// ParseRate reads a positive plain decimal ("0.1490046489450470854690666349"):
// no sign, exponent or fraction form, at most 64 characters.
func ParseRate(s string) (*big.Rat, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if len(s) > 64 || !digits(whole) || hasDot && !digits(frac) {
		return nil, fmt.Errorf("rate %q is not a plain decimal", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return nil, fmt.Errorf("rate %q is not a positive number", s)
	}
	return r, nil
}

var _ gateways.ForexQuoter = (*Client)(nil)

// ForexQuote is gateways.ForexQuoter: the platform's reference rate
// (ForexRate, units of cur per CNY) turned into CNY per unit, stamped
// with when it was read. The caller caches it (the rate is a reference,
// "the actual rate should be the live exchange rate").
func (c *Client) ForexQuote(ctx context.Context, cur pos.Currency) (gateways.ForexQuote, error) {
	r, err := c.ForexRate(ctx, cur)
	if err != nil {
		return gateways.ForexQuote{}, err
	}
	return gateways.ForexQuote{Currency: cur, CNYPerUnit: new(big.Rat).Inv(r.Rate), At: c.now()}, nil
}
