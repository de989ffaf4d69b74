package display

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// Rate is a reference exchange rate for showing a foreign-currency amount's
// CNY equivalent to a customer: CNY per one unit of Currency. It informs;
// it never decides what is charged (the wallet converts at its own rate).
type Rate struct {
	Currency pos.Currency
	// CNY is how many yuan one unit of Currency is, exactly.
	CNY *big.Rat
	// At is when the rate was set or quoted; the display shows it.
	At time.Time
}

// ParseRate reads a rate as an operator writes it ("0.9213": CNY per unit
// of currency), positive, plain decimal.
func ParseRate(currency, cny string, at time.Time) (Rate, error) {
	cur, err := pos.ParseCurrency(currency)
	if err != nil {
		return Rate{}, fmt.Errorf("display: rate currency: %w", err)
	}
	if cur == "CNY" {
		return Rate{}, fmt.Errorf("display: a rate for CNY itself makes no sense")
	}
	whole, frac, _ := strings.Cut(cny, ".")
	if cny == "" || len(cny) > 32 || !allDigits(whole) || !allDigits(frac) || whole == "" {
		return Rate{}, fmt.Errorf("display: rate %q for %s is not a plain positive decimal such as 0.9213", cny, cur)
	}
	r, ok := new(big.Rat).SetString(cny)
	if !ok || r.Sign() <= 0 {
		return Rate{}, fmt.Errorf("display: rate %q for %s is not positive", cny, cur)
	}
	if at.IsZero() {
		return Rate{}, fmt.Errorf("display: rate for %s needs the time it was set (at)", cur)
	}
	return Rate{Currency: cur, CNY: r, At: at}, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Equivalent is m in CNY at r, rounded half up to the fen; false when m is
// not in r's currency or r is empty.
func (r Rate) Equivalent(m pos.Money) (pos.Money, bool) {
	if r.CNY == nil || m.Currency != r.Currency || !m.Currency.Valid() {
		return pos.Money{}, false
	}
	// yuan = minor / 10^exp * rate; fen = yuan * 100.
	v := new(big.Rat).SetInt64(m.Minor)
	v.Mul(v, r.CNY)
	v.Mul(v, new(big.Rat).SetInt64(100))
	v.Quo(v, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(m.Currency.Exponent())), nil)))
	// Round half up (amounts are positive).
	num, den := v.Num(), v.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(rem, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return pos.Money{}, false
	}
	out, err := pos.NewMoney(q.Int64(), "CNY")
	return out, err == nil
}

// Text is the rate as shown: up to four decimals, trailing zeros dropped.
func (r Rate) Text() string {
	if r.CNY == nil {
		return ""
	}
	s := strings.TrimRight(r.CNY.FloatString(4), "0")
	return strings.TrimSuffix(s, ".")
}

// Rates are the current rates by currency, safe to share: the web display
// reads them per screen, and whoever refreshes them (a gateway's forex
// quote) sets them.
type Rates interface {
	// Rate is the current rate of cur, or false.
	Rate(cur pos.Currency) (Rate, bool)
}
