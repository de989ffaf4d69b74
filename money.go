// Package pos holds posagent's domain values: money in minor units, wallets,
// payment codes, payment states and the error type every layer shares.
//
// It imports only the standard library, so every other package may depend on
// it and it may depend on none of them.
package pos

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Currency is an ISO 4217 alphabetic code that posagent knows the minor-unit
// exponent of. Only currencies in the table below are accepted: an amount in
// a currency whose exponent we do not know cannot be converted safely.
type Currency string

// currencyExponent is the ISO 4217 minor-unit exponent of every currency the
// acquirers in shared/specs settle in.
var currencyExponent = map[Currency]int{
	"CNY": 2, "HKD": 2, "USD": 2, "EUR": 2, "GBP": 2, "SGD": 2, "AUD": 2,
	"CAD": 2, "NZD": 2, "MOP": 2, "TWD": 2, "THB": 2, "MYR": 2, "CHF": 2,
	"JPY": 0, "KRW": 0,
}

// ParseCurrency validates an ISO 4217 code (upper case, known exponent).
func ParseCurrency(s string) (Currency, error) {
	c := Currency(s)
	if _, ok := currencyExponent[c]; !ok {
		return "", Errorf(Invalid, "pos.ParseCurrency", "unsupported currency %q", s)
	}
	return c, nil
}

// Exponent is the number of minor-unit digits: 2 for CNY, 0 for JPY.
// It panics on a currency that did not come from ParseCurrency, because such
// a value is a programming error, not input.
func (c Currency) Exponent() int {
	e, ok := currencyExponent[c]
	if !ok {
		panic(fmt.Sprintf("pos: currency %q has no known exponent", string(c)))
	}
	return e
}

// Valid reports whether c is a supported currency.
func (c Currency) Valid() bool { _, ok := currencyExponent[c]; return ok }

// Money is an amount in minor units (fen, cents, yen) with its currency.
// Floats never hold money in posagent.
type Money struct {
	Minor    int64    `json:"amount"`
	Currency Currency `json:"currency"`
}

// MaxMinor bounds amounts: no till payment is larger, and it keeps every
// conversion far from int64 overflow.
const MaxMinor = 1_000_000_000_00

// NewMoney validates an amount in minor units. Zero and negative amounts are
// refused: every operation posagent sends moves a positive sum.
func NewMoney(minor int64, currency string) (Money, error) {
	c, err := ParseCurrency(currency)
	if err != nil {
		return Money{}, err
	}
	if minor <= 0 {
		return Money{}, Errorf(Invalid, "pos.NewMoney", "amount must be positive, got %d", minor)
	}
	if minor > MaxMinor {
		return Money{}, Errorf(Invalid, "pos.NewMoney", "amount %d exceeds the limit %d", minor, int64(MaxMinor))
	}
	return Money{Minor: minor, Currency: c}, nil
}

// ParseMoney reads a decimal major-unit string such as "12.34" in the given
// currency. It refuses more decimals than the currency has ("12.345" CNY,
// "12.5" JPY), signs, exponents and anything that is not plain digits.
func ParseMoney(s, currency string) (Money, error) {
	const op = "pos.ParseMoney"
	c, err := ParseCurrency(currency)
	if err != nil {
		return Money{}, err
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasDot && (frac == "" || !allDigits(frac))) {
		return Money{}, Errorf(Invalid, op, "amount %q is not a plain decimal number", s)
	}
	exp := c.Exponent()
	if len(frac) > exp {
		return Money{}, Errorf(Invalid, op, "amount %q has more than %d decimals for %s", s, exp, c)
	}
	if len(whole) > 12 {
		return Money{}, Errorf(Invalid, op, "amount %q is too large", s)
	}
	frac += strings.Repeat("0", exp-len(frac))
	minor, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return Money{}, Errorf(Invalid, op, "amount %q: %v", s, err)
	}
	return NewMoney(minor, string(c))
}

// String formats the amount in major units with its currency: "12.34 CNY".
func (m Money) String() string {
	if !m.Currency.Valid() {
		return fmt.Sprintf("%d (no currency)", m.Minor)
	}
	return m.Decimal() + " " + string(m.Currency)
}

// Decimal formats the amount in major units without the currency: "12.34".
func (m Money) Decimal() string {
	exp := m.Currency.Exponent()
	neg := m.Minor < 0
	v := m.Minor
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Add returns m+o; both must share a currency.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, Errorf(Invalid, "pos.Money.Add", "currency mismatch %s and %s", m.Currency, o.Currency)
	}
	return Money{Minor: m.Minor + o.Minor, Currency: m.Currency}, nil
}

// MarshalJSON is the default struct encoding; declared so the wire format of
// Money is a documented decision: {"amount": minor, "currency": "CNY"}.
func (m Money) MarshalJSON() ([]byte, error) {
	type plain Money
	return json.Marshal(plain(m))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
