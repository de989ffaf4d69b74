package hipopaysim

// The simulator's own reading of the HipoPay wire
// (hipopay-miniprogram.txt), written from the spec and not from
// gateways/hipopay: parameters, the signed text, RSA SHA-256 signatures,
// the headers, paths, codes and times.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Header names, as "IIII. Add the request header" spells them.
const (
	hMerchantNO = "MerchantNO"
	hVersion    = "Version"
	hTimestamp  = "Timestamp"
	hSignature  = "Signature"
)

// Versions: "Fixed value 1.0"; the bill asks for 3.0.
const (
	version     = "1.0"
	billVersion = "3.0"
)

// Paths of the APIs the simulator serves.
const (
	pathPayment = "/payment"
	pathRefund  = "/payment_refund"
	pathBill    = "/download_bill"
	pathForex   = "/wechatpay/forex_rate"
)

// Error codes of the spec's Error Code tables.
const (
	errPaymentNotFound      = "PAYMENT_NOT_FOUND"
	errRefundNotFound       = "REFUND_NOT_FOUND"
	errRefundAmountInvalid  = "REFUND_AMOUNT_INVALID"
	errIllegalSecurity      = "ILLEGAL_SECURITY_PROFILE"
	errCurrencyNotSupported = "CURRENCY_NOT_SUPPORT"
)

// timeLayout is the spec's times ("2018-08-13 16:33:16"), billDate its
// start_date/end_date ("20190101").
const (
	timeLayout = "2006-01-02 15:04:05"
	billDate   = "20060102"
)

// zone is the platform's clock: a Hong Kong platform, UTC+8.
var zone = time.FixedZone("UTC+8", 8*3600)

// keyBits is "openssl genrsa -out private.key 2048".
const keyBits = 2048

// params is a request's or notification's parameters.
type params map[string]string

// signText is step II: the parameters sorted by name (ASCII), "key=value"
// joined with "&", then "," and the Timestamp. encode says whether values
// are URL-encoded first (as the vendor's SDKs do) or raw (as the spec's
// callback vector is verified).
func signText(p params, ts string, encode bool) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := p[k]
		if encode {
			v = strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, "&") + "," + ts
}

// rsaSign is step III: RSA with SHA256 over the text, base64.
func rsaSign(key *rsa.PrivateKey, text string) (string, error) {
	h := sha256.Sum256([]byte(text))
	b, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func rsaVerify(pub *rsa.PublicKey, text, sig string) error {
	b, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || sig == "" {
		return errors.New("signature is not base64")
	}
	h := sha256.Sum256([]byte(text))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], b)
}

// verifyRequest checks a request's signature under either reading of
// "URL key pair format": raw values or URL-encoded ones. The two agree on
// letters, digits, '.', '_' and '-'; the simulator accepts a request
// signed either way (what the platform does is to be confirmed).
func verifyRequest(pub *rsa.PublicKey, p params, ts, sig string) error {
	if rsaVerify(pub, signText(p, ts, false), sig) == nil || rsaVerify(pub, signText(p, ts, true), sig) == nil {
		return nil
	}
	return errors.New("signature does not verify")
}

// timestamp is the simulator's Timestamp: Unix seconds.
func timestamp(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// parseTimestamp reads Unix seconds or milliseconds.
func parseTimestamp(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil || n <= 0:
		return time.Time{}, fmt.Errorf("Timestamp %q is not a Unix time", s)
	case len(s) == 13:
		return time.UnixMilli(n), nil
	case len(s) == 10:
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("Timestamp %q is not 10 or 13 digits", s)
}

// encode is the form of params (sorted, URL-encoded).
func (p params) encode() string {
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	return v.Encode()
}
