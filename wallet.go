package pos

import (
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Wallet is the consumer payment app a payment is made with.
type Wallet string

// The wallets the acquirers in shared/specs can take at a till.
const (
	WeChatPay Wallet = "wechat"
	Alipay    Wallet = "alipay"
	UnionPay  Wallet = "unionpay"
	QQWallet  Wallet = "qq"
	JDPay     Wallet = "jd"
	PayNow    Wallet = "paynow" // Singapore; merchant-presented only (Allinpay PAYNOW_SCANCODE)
)

// Wallets lists every wallet in a stable order.
var Wallets = []Wallet{WeChatPay, Alipay, UnionPay, QQWallet, JDPay, PayNow}

// ParseWallet validates a wallet name as used in the API and config.
func ParseWallet(s string) (Wallet, error) {
	for _, w := range Wallets {
		if string(w) == s {
			return w, nil
		}
	}
	return "", Errorf(Invalid, "pos.ParseWallet", "unknown wallet %q", s)
}

// DisplayName is the wallet's name for receipts and the customer display.
func (w Wallet) DisplayName() string {
	switch w {
	case WeChatPay:
		return "WeChat Pay"
	case Alipay:
		return "Alipay"
	case UnionPay:
		return "UnionPay"
	case QQWallet:
		return "QQ Wallet"
	case JDPay:
		return "JD Pay"
	case PayNow:
		return "PayNow"
	}
	return string(w)
}

// AuthCode is a customer-presented payment code ("付款码"), as scanned. It is
// a bearer credential for a few minutes: it never reaches a log, the journal
// or a receipt in full. String, Format via %v and slog all see the masked form.
type AuthCode struct {
	raw    string
	wallet Wallet
}

// codeRule is one row of the payment-code table. Each cites its source so the
// table can be checked when a wallet changes its format.
type codeRule struct {
	wallet   Wallet
	prefixes []string
	minLen   int
	maxLen   int
	source   string
}

// codeRules, in the order they are tried. Prefix ranges do not overlap.
var codeRules = []codeRule{
	{WeChatPay, []string{"10", "11", "12", "13", "14", "15"}, 18, 18,
		"WeChat Pay micropay API: auth_code is 18 digits starting 10-15"},
	{Alipay, []string{"25", "26", "27", "28", "29", "30"}, 16, 24,
		"Alipay alipay.trade.pay: auth_code 16-24 digits starting 25-30"},
	{UnionPay, []string{"62"}, 19, 19,
		"UnionPay QR C2B payment code: 19 digits starting 62"},
	{QQWallet, []string{"91"}, 18, 18,
		"QQ Wallet micropay: 18 digits starting 91"},
	{JDPay, []string{"18"}, 18, 18,
		"JD Pay payment code: 18 digits starting 18"},
}

// CodeRuleSources lists every classification rule with its source, for docs.
func CodeRuleSources() map[Wallet]string {
	m := make(map[Wallet]string, len(codeRules))
	for _, r := range codeRules {
		m[r.wallet] = r.source
	}
	return m
}

// Payment code length bounds over all wallets.
const (
	minCodeLen = 16
	maxCodeLen = 24
)

// ParseAuthCode classifies a scanned payment code by prefix and length and
// rejects, with a reason a cashier can act on, anything that is not one:
// product barcodes, non-digits, full-width digits, wrong lengths.
func ParseAuthCode(s string) (AuthCode, error) {
	const op = "pos.ParseAuthCode"
	if s == "" {
		return AuthCode{}, Errorf(Invalid, op, "empty payment code")
	}
	if !utf8.ValidString(s) {
		return AuthCode{}, Errorf(Invalid, op, "payment code is not valid text")
	}
	for _, r := range s {
		if r >= '０' && r <= '９' {
			return AuthCode{}, Errorf(Invalid, op, "payment code has full-width digits; set the scanner to half-width output")
		}
	}
	if !allDigits(s) {
		return AuthCode{}, Errorf(Invalid, op, "not a payment code: it contains characters other than digits")
	}
	switch n := len(s); {
	case n == 8 && gtinCheckOK(s):
		return AuthCode{}, Errorf(Invalid, op, "that is a product barcode (EAN-8), not a payment code")
	case n == 12 && gtinCheckOK(s):
		return AuthCode{}, Errorf(Invalid, op, "that is a product barcode (UPC-A), not a payment code")
	case n == 13 && gtinCheckOK(s):
		return AuthCode{}, Errorf(Invalid, op, "that is a product barcode (EAN-13), not a payment code")
	case n == 14 && gtinCheckOK(s):
		return AuthCode{}, Errorf(Invalid, op, "that is a product barcode (GTIN-14), not a payment code")
	case n < minCodeLen:
		return AuthCode{}, Errorf(Invalid, op, "payment code too short (%d digits)", n)
	case n > maxCodeLen:
		return AuthCode{}, Errorf(Invalid, op, "payment code too long (%d digits)", n)
	}
	for _, r := range codeRules {
		for _, p := range r.prefixes {
			if strings.HasPrefix(s, p) {
				if len(s) < r.minLen || len(s) > r.maxLen {
					return AuthCode{}, Errorf(Invalid, op, "%s payment codes have %s digits, got %d",
						r.wallet.DisplayName(), lenRange(r.minLen, r.maxLen), len(s))
				}
				return AuthCode{raw: s, wallet: r.wallet}, nil
			}
		}
	}
	return AuthCode{}, Errorf(Invalid, op, "unrecognised payment code (prefix %s)", s[:2])
}

func lenRange(lo, hi int) string {
	if lo == hi {
		return itoa(lo)
	}
	return itoa(lo) + "-" + itoa(hi)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// gtinCheckOK reports whether s ends in a valid GS1 check digit, which every
// EAN/UPC product barcode has. A payment code that happens to be 13 digits
// is impossible (all wallets use 16+), so this only sharpens the message.
func gtinCheckOK(s string) bool {
	sum := 0
	for i := len(s) - 2; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-2-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

// Wallet is the wallet the code belongs to.
func (c AuthCode) Wallet() Wallet { return c.wallet }

// Reveal returns the full code. Only gateway adapters call it, to put the
// code on the wire; the name makes every other use stand out in review.
func (c AuthCode) Reveal() string { return c.raw }

// IsZero reports whether c holds no code.
func (c AuthCode) IsZero() bool { return c.raw == "" }

// Masked is the code with all but its first 2 and last 4 digits hidden.
func (c AuthCode) Masked() string { return MaskCode(c.raw) }

// String is the masked form, so fmt never leaks the code.
func (c AuthCode) String() string { return c.Masked() }

// LogValue makes slog print the masked form.
func (c AuthCode) LogValue() slog.Value { return slog.StringValue(c.Masked()) }

// MaskCode hides all but the first 2 and last 4 characters of a secret-ish
// string: "134567890123456789" -> "13************6789". Short values are
// hidden entirely.
func MaskCode(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:2] + strings.Repeat("*", len(s)-6) + s[len(s)-4:]
}

// Secret is a string that must never be logged: keys, tokens, QR payloads.
type Secret string

// String hides the value.
func (Secret) String() string { return "[redacted]" }

// LogValue hides the value from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Reveal returns the secret, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }
