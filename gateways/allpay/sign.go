package allpay

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sign types the spec names (§3, every table's signType: "MD5" or "SHA256").
const (
	SignMD5    = "MD5"
	SignSHA256 = "SHA256"
)

// SignatureField is the one field never signed (§3.1 "except signature
// parameters"). signType itself is signed: the spec's sample string
// contains "signType=MD5".
const SignatureField = "signature"

// Fields is one wire message: field names and their raw values, as signed
// (not URL-encoded: the spec's sample signs "backURL=https://www.allpayx.com").
type Fields map[string]string

// SigningString is String1 of §3.1: the fields except signature, sorted by
// name in byte (ASCII) order, joined as k=v&k=v. Empty fields are left out
// unless withEmpty is set; posagent never sends an empty field, so the
// difference only matters when verifying what the platform sends (see the
// package doc).
func (f Fields) SigningString(withEmpty bool) string {
	keys := make([]string, 0, len(f))
	for k, v := range f {
		if k == SignatureField || (v == "" && !withEmpty) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(f[k])
	}
	return b.String()
}

// digest is §3.2: the key appended directly to String1 (no "&", no
// "key="), hashed with signType's algorithm, written as lower-case hex.
func digest(signingString, key, signType string) (string, error) {
	switch signType {
	case SignMD5:
		sum := md5.Sum([]byte(signingString + key))
		return hex.EncodeToString(sum[:]), nil
	case SignSHA256:
		sum := sha256.Sum256([]byte(signingString + key))
		return hex.EncodeToString(sum[:]), nil
	}
	return "", fmt.Errorf("signType %q: want %s or %s", signType, SignMD5, SignSHA256)
}

// Sign returns the signature of f's non-empty fields under key with f's
// own signType, which must be MD5 or SHA256. f is not changed.
func Sign(f Fields, key string) (string, error) {
	return digest(f.SigningString(false), key, f["signType"])
}

// ErrBadSignature is wrapped by every verification failure.
var ErrBadSignature = errors.New("signature does not verify")

// Verify checks f's signature under key. The message's signType must be
// wantType (the merchant's configured type: an answer may not pick a
// weaker algorithm than the one agreed); a missing or malformed signature
// fails like a wrong one. Hex case is ignored. The signature is tried
// over the non-empty fields, then, when some field is empty, over all of
// them (later revisions of the AllPay document sign empty fields as "k=").
func Verify(f Fields, key, wantType string) error {
	if st := f["signType"]; st != wantType {
		return fmt.Errorf("%w: signType %q, want %q", ErrBadSignature, st, wantType)
	}
	return verifyAs(f, key, wantType)
}

// verifyAs checks f's signature as signType's digest, whatever f's own
// signType field says (or lacks): for the §5.1.1 purchase answer, which
// need not carry signType.
func verifyAs(f Fields, key, wantType string) error {
	got := strings.ToLower(strings.TrimSpace(f[SignatureField]))
	if got == "" {
		return fmt.Errorf("%w: no signature", ErrBadSignature)
	}
	hasEmpty := false
	for _, v := range f {
		if v == "" {
			hasEmpty = true
			break
		}
	}
	for _, withEmpty := range []bool{false, true} {
		if withEmpty && !hasEmpty {
			break
		}
		want, err := digest(f.SigningString(withEmpty), key, wantType)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
			return nil
		}
	}
	return ErrBadSignature
}
