package pos

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseAuthCode(t *testing.T) {
	tests := []struct {
		code   string
		wallet Wallet // "" when rejected
		reason string // substring of the rejection
	}{
		// WeChat Pay: 18 digits, 10-15.
		{"104567890123456789", WeChatPay, ""},
		{"134567890123456789", WeChatPay, ""},
		{"154567890123456789", WeChatPay, ""}, // Hong Kong users
		{"13456789012345678", "", "WeChat Pay payment codes have 18 digits, got 17"},
		{"1345678901234567890", "", "WeChat Pay payment codes have 18 digits, got 19"},
		// Alipay: 16-24 digits, 25-30, at the length received.
		{"2812345678901234", Alipay, ""},
		{"284567890123456789", Alipay, ""},
		{"250000000000000000000000", Alipay, ""},
		{"301234567890123456", Alipay, ""},
		{"2912345678901234567890123", "", "too long (25 digits)"},
		{"281234567890123", "", "too short (15 digits)"},
		// UnionPay: 19 digits, 62.
		{"6212345678901234567", UnionPay, ""},
		{"621234567890123456", "", "UnionPay payment codes have 19 digits, got 18"},
		// Unverified rows (see codeRules).
		{"910123456789012345", QQWallet, ""},
		{"181234567890123456", JDPay, ""},
		// Unknown prefixes.
		{"164567890123456789", "", "unrecognised payment code (starts 16)"},
		{"994567890123456789", "", "unrecognised payment code (starts 99)"},
		// Product barcodes.
		{"4006381333931", "", "product barcode (EAN-13)"},
		{"9780306406157", "", "product barcode (EAN-13)"}, // ISBN
		{"036000291452", "", "product barcode (UPC-A)"},
		{"96385074", "", "product barcode (EAN-8)"},
		{"10614141000415", "", "product barcode (GTIN-14)"},
		{"4006381333932", "", "too short (13 digits)"}, // bad check digit: not a product either
		// Not digits.
		{"", "", "empty"},
		{"１３４５６７８９０１２３４５６７８９", "", "full-width digits"},
		{"13456789012345678９", "", "full-width digits"},
		{"134567890123456789\r", "", "control characters"},
		{" 134567890123456789", "", "spaces"},
		{"134567890\t123456789", "", "control characters"},
		{"1345678901234567\x0089", "", "control characters"},
		{"13456789012345678A", "", "characters other than digits"},
		{"https://qr.alipay.com/x", "", "characters other than digits"},
		{"١٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩", "", "characters other than digits"}, // Arabic-Indic digits
		{"\xff\xfe134567890123456789", "", "not text"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.code), func(t *testing.T) {
			c, err := ParseAuthCode(tt.code)
			if tt.wallet != "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if c.Wallet() != tt.wallet || c.Reveal() != tt.code {
					t.Fatalf("got %v %q, want %v", c.Wallet(), c.Reveal(), tt.wallet)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted as %v", c.Wallet())
			}
			if KindOf(err) != Invalid {
				t.Errorf("kind %v, want Invalid", KindOf(err))
			}
			var pe *Error
			if !asError(err, &pe) || !strings.Contains(pe.Message(), tt.reason) {
				t.Errorf("reason %q, want it to contain %q", err, tt.reason)
			}
			if !c.IsZero() {
				t.Error("rejected code is not zero")
			}
		})
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

// Every wallet rule cites a source, and prefixes never overlap, so the
// order of the table cannot change a classification.
func TestCodeRulesDisjoint(t *testing.T) {
	owner := map[string]Wallet{}
	for _, r := range codeRules {
		if len(r.source) < 40 {
			t.Errorf("%s: source %q is not a citation", r.wallet, r.source)
		}
		if !r.verified && !strings.HasPrefix(r.source, "UNVERIFIED") {
			t.Errorf("%s: unverified rule must say so first in its source", r.wallet)
		}
		for _, p := range r.prefixes {
			for q, w := range owner {
				if strings.HasPrefix(p, q) || strings.HasPrefix(q, p) {
					t.Errorf("prefix %s of %s overlaps %s of %s", p, r.wallet, q, w)
				}
			}
			owner[p] = r.wallet
		}
	}
	if got := len(CodeRuleSources()); got != len(codeRules) {
		t.Errorf("CodeRuleSources has %d rules, table %d", got, len(codeRules))
	}
}

func TestCodeLengthBounds(t *testing.T) {
	lo, hi := 1000, 0
	for _, r := range codeRules {
		lo, hi = min(lo, r.minLen), max(hi, r.maxLen)
	}
	if lo != minCodeLen || hi != maxCodeLen {
		t.Errorf("rules span %d..%d, constants say %d..%d", lo, hi, minCodeLen, maxCodeLen)
	}
}

func TestAuthCodeNeverPrintsInFull(t *testing.T) {
	c, err := ParseAuthCode("134567890123456789")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "code", c)
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v %s", c, c, c), buf.String()} {
		if strings.Contains(s, "134567890123456789") || strings.Contains(s, "4567890123") {
			t.Errorf("full code printed: %s", s)
		}
	}
	if got := c.Masked(); got != "13************6789" {
		t.Errorf("Masked = %q", got)
	}
	if got := MaskCode("12345678"); got != "********" {
		t.Errorf("short MaskCode = %q", got)
	}
}

// FuzzParseAuthCode: the classifier never panics, and a code it accepts is
// the input itself, all ASCII digits, of a length some wallet uses.
func FuzzParseAuthCode(f *testing.F) {
	for _, s := range []string{"134567890123456789", "2812345678901234", "6212345678901234567",
		"4006381333931", "１３４５", "13456789012345678\r", "", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAuthCode(s)
		if err != nil {
			if !c.IsZero() {
				t.Fatalf("rejected %q but returned a code", s)
			}
			if KindOf(err) != Invalid || !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("bad error for %q: %v", s, err)
			}
			return
		}
		if c.Reveal() != s {
			t.Fatalf("accepted %q as %q", s, c.Reveal())
		}
		if len(s) < minCodeLen || len(s) > maxCodeLen || !allDigits(s) || c.Wallet() == "" {
			t.Fatalf("accepted %q (%s)", s, c.Wallet())
		}
		if strings.Contains(c.String(), s[2:len(s)-4]) {
			t.Fatalf("String() leaks %q", c.String())
		}
	})
}
