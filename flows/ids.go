package flows

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// newPaymentID returns "pay_" and 16 random hex digits.
func newPaymentID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go 1.24+)
	return "pay_" + hex.EncodeToString(b[:])
}

// Order and refund numbers must be unique per merchant, not per till: the
// tills of one merchant share its merchant number at the acquirer, which
// refuses (or, worse, answers for another till's order) a number used
// twice. A number is 20 characters, the strictest limit in shared/specs
// (MMSP MERORDERID and REFUND_MERORDERID are string(20); Swiftpass
// out_trade_no/out_refund_no String(32) of digits, letters and
// underscores; Allinpay outTransNo AS/ANx 32; AllPay orderNum String(60);
// HipoPay out_refund_id a string), all digits and upper-case letters:
//
//	PA 7K2Q 0B3XZ9 4TQ8M2HW
//	│  │    │      └ 8 random characters (40 bits)
//	│  │    └ seconds since 2024-01-01 UTC, base 32 (6 characters, ~34 years)
//	│  └ the till's prefix: 4 characters (20 bits), per install
//	└ PA for a payment, RF for a refund (they share Allinpay's outTransNo space)
//
// The alphabet is Crockford's base 32 (no I, L, O, U), so a number read
// aloud or retyped from a receipt is not misread. Two tills with different
// prefixes never draw the same number; two that drew the same prefix (1 in
// a million per pair) would also need the same second and the same 40
// random bits. Within one till the journal's unique index refuses a
// repeat, and a new number is drawn.
const numberAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NumberPrefixLen is the length of a till's number prefix.
const NumberPrefixLen = 4

// numberEpoch is where the numbers' clock starts.
var numberEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// NewNumberPrefix draws a random till prefix, for an install that has none
// yet (cmd/posagent keeps it in the state directory).
func NewNumberPrefix() string { return randomChars(NumberPrefixLen) }

// CheckNumberPrefix reports whether s can be a till's number prefix.
func CheckNumberPrefix(s string) error {
	if len(s) != NumberPrefixLen {
		return fmt.Errorf("number prefix %q must be %d characters", s, NumberPrefixLen)
	}
	for _, c := range s {
		if !strings.ContainsRune(numberAlphabet, c) {
			return fmt.Errorf("number prefix %q may only hold %s", s, numberAlphabet)
		}
	}
	return nil
}

func randomChars(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux (Go 1.24+)
	for i := range b {
		b[i] = numberAlphabet[b[i]&31] // 256 is a multiple of 32: uniform
	}
	return string(b)
}

// newNumber returns kind + prefix + time + randomness: 20 characters.
func newNumber(kind, prefix string, now time.Time) string {
	secs := uint64(max(0, now.Sub(numberEpoch)/time.Second))
	var ts [6]byte
	for i := len(ts) - 1; i >= 0; i-- {
		ts[i] = numberAlphabet[secs&31]
		secs >>= 5
	}
	return kind + prefix + string(ts[:]) + randomChars(8)
}

// NewOutTradeNo returns a payment's order number for the till with
// prefix. It is generated once per payment and journaled before the
// submit, so retries and queries reuse it.
func NewOutTradeNo(prefix string, now time.Time) string { return newNumber("PA", prefix, now) }

// NewOutRefundNo returns a refund's number, the shape of a payment's.
func NewOutRefundNo(prefix string, now time.Time) string { return newNumber("RF", prefix, now) }

func newOutTradeNo(prefix string, now time.Time) string  { return NewOutTradeNo(prefix, now) }
func newOutRefundNo(prefix string, now time.Time) string { return NewOutRefundNo(prefix, now) }

// codeHash is the keyed hash of a payment code journaled instead of the
// code: it lets support match a customer's complaint to a payment without the
// journal holding a usable code.
func codeHash(key []byte, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}
