package swiftpass

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Services, as the spec names them (the "service" field).
const (
	ServiceWeChatQR    = "pay.weixin.native.intl" // §6.1
	ServiceAlipayQR    = "pay.alipay.native.intl" // §6.1
	ServiceUPIQR       = "pay.upi.native.intl"    // §6.1
	ServiceQuery       = "unified.trade.query"    // §6.3
	ServiceRefund      = "unified.trade.refund"   // §6.4
	ServiceRefundQuery = "unified.trade.refundquery"
	ServiceClose       = "unified.trade.close" // §6.6
)

// class is a field's character class.
type class int

const (
	text   class = iota // printable UTF-8 (no control characters)
	ident               // letters, digits, '_' and '-' (order numbers)
	digits              // 0-9
	amount              // a positive integer in minor units, no leading zero
	stamp               // yyyyMMddHHmmss: exactly 14 digits
)

// rule is one row of a request table: the field, its maximum length in
// bytes (String(n); UTF-8 bytes, which the spec's "128 English, 42
// Chinese" for body agrees with) and whether it is required.
type rule struct {
	name     string
	max      int
	class    class
	required bool
}

// common are the fields every request table lists (§6.1.3, §6.3.2, ...).
var common = []rule{
	{"service", 32, text, true},
	{"version", 8, text, false},
	{"charset", 8, text, false},
	{"sign_type", 16, text, false},
	{"groupno", 32, text, false},
	{"mch_id", 32, text, true},
	{"nonce_str", 32, text, true},
	{"sign_agentno", 32, text, false},
}

// tables are the service-specific rows; oneOf lists groups of which at
// least one field must be present ("At least one of the out_trade_no and
// transaction_id should exist").
var tables = map[string]struct {
	rules []rule
	oneOf [][]string
}{
	"qr": {rules: []rule{
		{"out_trade_no", 32, ident, true},
		{"device_info", 32, text, false},
		{"body", 128, text, true},
		{"attach", 127, text, false},
		{"total_fee", 12, amount, true},
		{"mch_create_ip", 16, text, true},
		{"notify_url", 255, text, true},
		{"time_start", 14, stamp, false},
		{"time_expire", 14, stamp, false},
		{"op_user_id", 32, text, false},
		{"goods_tag", 32, text, false},
		{"product_id", 32, text, false},
		{"limit_credit_pay", 32, digits, false},
	}},
	ServiceQuery: {rules: []rule{
		{"out_trade_no", 32, ident, false},
		{"transaction_id", 32, text, false},
	}, oneOf: [][]string{{"out_trade_no", "transaction_id"}}},
	ServiceRefund: {rules: []rule{
		{"out_trade_no", 32, ident, false},
		{"transaction_id", 32, text, false},
		{"out_refund_no", 32, ident, true},
		{"total_fee", 12, amount, true},
		{"refund_fee", 12, amount, true},
		{"op_user_id", 32, text, true},
		{"refund_channel", 16, text, false},
	}, oneOf: [][]string{{"out_trade_no", "transaction_id"}}},
	ServiceRefundQuery: {rules: []rule{
		{"out_trade_no", 32, ident, false},
		{"transaction_id", 32, text, false},
		{"out_refund_no", 32, ident, false},
		{"refund_id", 32, text, false},
	}, oneOf: [][]string{{"out_trade_no", "transaction_id"}, {"out_refund_no", "refund_id"}}},
	ServiceClose: {rules: []rule{
		{"out_trade_no", 32, ident, true},
	}},
}

// tableOf names the request table of a service.
func tableOf(service string) string {
	switch service {
	case ServiceWeChatQR, ServiceAlipayQR, ServiceUPIQR:
		return "qr"
	}
	return service
}

// ValidateRequest checks a request's fields against the spec's table for
// its service, the way the platform would, and names the first field that
// breaks a rule: "field body: is 130 bytes, longer than 128". Fields the
// table does not list are allowed. The sign field is not checked here.
// The adapter runs it before signing (a breach is pos.Invalid, nothing
// sent); the simulator runs it on what it receives.
func ValidateRequest(f Fields) error {
	t, ok := tables[tableOf(f["service"])]
	if !ok {
		return fmt.Errorf("field service: unknown service %q", f["service"])
	}
	for _, rs := range [][]rule{common, t.rules} {
		for _, r := range rs {
			if err := r.check(f[r.name]); err != nil {
				return fmt.Errorf("field %s: %w", r.name, err)
			}
		}
	}
	for _, group := range t.oneOf {
		found := false
		for _, n := range group {
			found = found || f[n] != ""
		}
		if !found {
			return fmt.Errorf("field %s: at least one of %s is required", group[0], strings.Join(group, ", "))
		}
	}
	if st := f["sign_type"]; st != "" && !SignType(st).Valid() {
		return fmt.Errorf("field sign_type: %q is not MD5, SHA256 or RSA_1_256", st)
	}
	return nil
}

func (r rule) check(s string) error {
	if s == "" {
		if r.required {
			return errors.New("is required")
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return errors.New("is not UTF-8")
	}
	if len(s) > r.max {
		return fmt.Errorf("is %d bytes, longer than %d", len(s), r.max)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return fmt.Errorf("contains the control character %U", c)
		}
	}
	switch r.class {
	case ident:
		for _, c := range s {
			if !isDigit(c) && !isLetter(c) && c != '_' && c != '-' {
				return fmt.Errorf("contains %q; only letters, digits, '_' and '-' are allowed", c)
			}
		}
	case digits, amount, stamp:
		for _, c := range s {
			if !isDigit(c) {
				return fmt.Errorf("%q is not a whole number", s)
			}
		}
		if r.class == amount && s[0] == '0' {
			return fmt.Errorf("%q is not a positive amount in minor units", s)
		}
		if r.class == stamp && len(s) != 14 {
			return fmt.Errorf("%q is not yyyyMMddHHmmss", s)
		}
	}
	return nil
}

func isDigit(c rune) bool  { return c >= '0' && c <= '9' }
func isLetter(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
