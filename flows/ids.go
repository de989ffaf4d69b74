package flows

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// newPaymentID returns "pay_" and 16 random hex digits.
func newPaymentID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go 1.24+)
	return "pay_" + hex.EncodeToString(b[:])
}

// newOutTradeNo returns a 20-character order number: "PA", the UTC time to
// the second (14 digits) and 4 random digits. Twenty characters fit every
// acquirer in shared/specs (MMSP MERORDERID is string(20)), and digits only
// pass every field rule. It is generated once per payment and journaled
// before the submit, so retries and queries reuse it.
func newOutTradeNo(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	n := (int(b[0])<<8 | int(b[1])) % 10000
	const digits = "0123456789"
	tail := []byte{digits[n/1000], digits[n/100%10], digits[n/10%10], digits[n%10]}
	return "PA" + now.UTC().Format("20060102150405") + string(tail)
}

// codeHash is the keyed hash of a payment code journaled instead of the
// code: it lets support match a customer's complaint to a payment without the
// journal holding a usable code.
func codeHash(key []byte, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}
