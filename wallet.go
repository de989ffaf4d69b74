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
	// verified is true when the source is the wallet's own documentation
	// or an acquirer's interface specification; false marks a rule taken
	// from integrators' notes that no primary source confirms yet. A wrong
	// unverified rule costs a declined payment, never a double charge.
	verified bool
	source   string
}

// codeRules, in the order they are tried. Prefix ranges do not overlap
// (TestCodeRulesDisjoint).
var codeRules = []codeRule{
	{WeChatPay, []string{"10", "11", "12", "13", "14", "15"}, 18, 18, true,
		"WeChat Pay micropay API, pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=5_1: " +
			"\"用户付款码条形码规则：18位纯数字，以10、11、12、13、14、15开头\"; the cross-border POS guide " +
			"(pay.weixin.qq.com/wiki/doc/api/wxpay/en/guide/pos/ImportantParameters.shtml) adds that " +
			"10-14 are mainland users and 15 Hong Kong users"},
	{Alipay, []string{"25", "26", "27", "28", "29", "30"}, 16, 24, true,
		"Alipay alipay.trade.pay, opendocs.alipay.com/open/194/106039: \"25~30开头的长度为16~24位的数字，" +
			"实际字符串长度以开发者获取的付款码长度为准\" (the code is taken at the length received, never padded or cut)"},
	{UnionPay, []string{"62"}, 19, 19, true,
		"UnionPay consumer-presented (C2B) payment code, 19 digits starting 62, as acquirers' micropay " +
			"interfaces specify it (\"银联二维码：以62开头长度19位数字\"); Allinpay OATS takes it as UNIONPAY_MICROPAY authCode"},
	{QQWallet, []string{"91"}, 18, 18, false,
		"UNVERIFIED: QQ Wallet codes are 18 digits starting 91 according to integrators' notes; the MMSP " +
			"spec (QQ刷卡支付, CODE string(32)) and QQ Wallet's public pages give no format. Confirm with the acquirer"},
	{JDPay, []string{"18"}, 18, 18, false,
		"UNVERIFIED: JD Pay codes are 18 digits starting 18 according to integrators' notes; no acquirer in " +
			"shared/specs offers JD micropay, and JD codes issued over UnionPay's network start 62 and classify as UnionPay"},
}

// CodeRuleSources lists every classification rule with its source, for docs.
func CodeRuleSources() map[Wallet]string {
	m := make(map[Wallet]string, len(codeRules))
	for _, r := range codeRules {
		m[r.wallet] = r.source
	}
	return m
}

// Payment code length bounds over all wallets (TestCodeLengthBounds keeps
// them in step with codeRules).
const (
	minCodeLen = 16
	maxCodeLen = 24
)

// ParseAuthCode classifies a scanned payment code by prefix and length and
// rejects, with a reason a cashier can act on, anything that is not one:
// product barcodes, non-digits, full-width digits, wrong lengths. An
// accepted code is exactly the input, all ASCII digits: the classifier never
// trims, pads or normalises, because a changed code is a different code.
func ParseAuthCode(s string) (AuthCode, error) {
	const op = "pos.ParseAuthCode"
	if s == "" {
		return AuthCode{}, Errorf(Invalid, op, "empty payment code")
	}
	if !utf8.ValidString(s) {
		return AuthCode{}, Errorf(Invalid, op, "not a payment code: the scanner sent bytes that are not text")
	}
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			return AuthCode{}, Errorf(Invalid, op, "payment code has full-width digits; set the scanner to half-width output")
		case r == ' ' || r == '\u3000' || r < 0x20 || r == 0x7f:
			return AuthCode{}, Errorf(Invalid, op, "payment code has spaces or control characters; check the scanner's suffix setting")
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
	return AuthCode{}, Errorf(Invalid, op, "unrecognised payment code (starts %s): not a wallet this till knows", s[:2])
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
