package allpay

import (
	"fmt"
	"slices"
	"strings"
)

// class is what characters a field may hold.
type class int

const (
	text     class = iota // printable UTF-8, no control characters
	orderNo               // letters, digits, '_' and '-' (posagent's rule, see the package doc)
	decimal               // an amount: digits with at most one '.' and decimals
	currency              // three upper-case letters (ISO 4217)
	digits14              // yyyyMMddHHmmss
	hexSig                // lower- or upper-case hex
)

// rule is one row of the spec's tables: String(max), in bytes of UTF-8.
type rule struct {
	max   int
	class class
	fixed []string // allowed values, when the table gives them
}

// fieldRules are the types the §4 tables give each field. The same name
// has the same type in every table, except signType, which some tables
// type String(3) although "SHA256" is 6 long (taken as 10), and signature,
// typed String(32) although a SHA256 signature is 64 hex digits (taken as
// 64).
var fieldRules = map[string]rule{
	"version":       {12, text, []string{Version}},
	"charSet":       {6, text, []string{CharSet}},
	"transType":     {4, text, []string{TransPurchase, TransInquiry, TransRefund, TransRefundQuery, TransVoid}},
	"orderNum":      {60, orderNo, nil},
	"origOrderNum":  {60, orderNo, nil},
	"orderAmount":   {12, decimal, nil},
	"returnAmount":  {12, decimal, nil},
	"orderCurrency": {3, currency, nil},
	"frontURL":      {400, text, nil},
	"backURL":       {400, text, nil},
	"merID":         {15, text, nil},
	"acqID":         {11, text, nil},
	"paymentSchema": {10, text, nil},
	"goodsInfo":     {60, text, nil},
	"detailInfo":    {400, text, nil},
	"transTime":     {14, digits14, nil},
	"merReserve":    {1024, text, nil},
	"signType":      {10, text, []string{SignMD5, SignSHA256}},
	"signature":     {64, hexSig, nil},
	"tradeFrom":     {10, text, nil},
}

var common = []string{"version", "charSet", "transType", "orderNum", "merID", "acqID", "paymentSchema", "transTime", "signType"}

// requiredFields are the M fields of each request table (signature is
// checked by the signing, not here).
var requiredFields = map[string][]string{
	TransPurchase:    append(slices.Clone(common), "orderAmount", "orderCurrency", "frontURL", "backURL", "goodsInfo", "detailInfo", "tradeFrom"),
	TransInquiry:     common,
	TransRefund:      append(slices.Clone(common), "origOrderNum", "returnAmount", "orderCurrency"),
	TransRefundQuery: common,
	TransVoid:        append(slices.Clone(common), "origOrderNum"),
}

// FieldError is a request field that breaks the spec's table.
type FieldError struct {
	Field   string
	Missing bool // the field is mandatory and absent
	Problem string
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Problem }

// CheckRequest applies the spec's request table of f's transType: every M
// field present, every known field within its type. Fields the tables do
// not list (channel-specific ones) are only checked for control
// characters. The adapter runs it before signing; the simulator runs it on
// what it receives.
func CheckRequest(f Fields) error {
	tt := f["transType"]
	req, ok := requiredFields[tt]
	if !ok {
		return &FieldError{Field: "transType", Problem: fmt.Sprintf("%q is not a transaction posagent speaks", tt)}
	}
	for _, name := range req {
		if f[name] == "" {
			return &FieldError{Field: name, Missing: true, Problem: "is mandatory (M) and missing"}
		}
	}
	for name, v := range f {
		if name == SignatureField {
			continue
		}
		if err := checkField(name, v); err != nil {
			return err
		}
	}
	return nil
}

func checkField(name, v string) error {
	bad := func(format string, args ...any) error {
		return &FieldError{Field: name, Problem: fmt.Sprintf(format, args...)}
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return bad("has a control character")
		}
	}
	r, ok := fieldRules[name]
	if !ok || v == "" {
		return nil
	}
	if len(v) > r.max {
		return bad("is %d bytes, longer than String(%d)", len(v), r.max)
	}
	if r.fixed != nil && !slices.Contains(r.fixed, v) {
		return bad("%q is not one of %s", v, strings.Join(r.fixed, ", "))
	}
	switch r.class {
	case orderNo:
		if strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			return bad("%q has characters other than letters, digits, '_' and '-'", v)
		}
	case decimal:
		whole, frac, dot := strings.Cut(v, ".")
		if whole == "" || strings.Trim(whole, "0123456789") != "" || dot && (frac == "" || strings.Trim(frac, "0123456789") != "") {
			return bad("%q is not a decimal amount", v)
		}
	case currency:
		if len(v) != 3 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return bad("%q is not an ISO 4217 code", v)
		}
	case digits14:
		if len(v) != 14 || strings.Trim(v, "0123456789") != "" {
			return bad("%q is not yyyyMMddHHmmss", v)
		}
	case hexSig:
		if strings.Trim(v, "0123456789abcdefABCDEF") != "" {
			return bad("is not hex")
		}
	}
	return nil
}
