package swiftpasssim

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// This file is the simulator's own reading of the spec's wire format
// (§3.2 XML, §4 signatures, §6 request tables), written from
// shared/specs/swiftpass-qr.txt and not from gateways/swiftpass, so the
// two readings can disagree and the contract suite can find it.

// Message is one flat XML message: field name to value.
type Message map[string]string

// Sign types the platform supports (§4.2; §6.1.3 sign_type: "MD5: MD5
// SHA256 : SHA256; RSA: RSA_1_256 Default value: MD5").
const (
	SignMD5    = "MD5"
	SignSHA256 = "SHA256"
	SignRSA    = "RSA_1_256"
)

// String1 is §4.1's "original string of signature": every field but sign
// with a value, "ranked in ascending order according to the ASCII of the
// field name", as key=value joined by &, values raw (no URL encoding).
func (m Message) String1() string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if k == "sign" || v == "" {
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
		b.WriteString(m[k])
	}
	return b.String()
}

// signer signs and verifies with one merchant's sign_type and key.
type signer struct {
	typ  string
	key  []byte          // MD5, SHA256
	priv *rsa.PrivateKey // RSA: the platform's, signs answers
	pub  *rsa.PublicKey  // RSA: the merchant's, verifies requests
}

// sign computes a message's sign:
//   - MD5 (§4.2.1): upper(hex(MD5(string1 + "&key=" + key)));
//   - SHA256 (§4.2.2): the worked example's value is the keyed hash
//     upper(hex(HMAC-SHA256(key, string1 + "&key=" + key))), not a plain
//     SHA-256 of that text, which the formula's words suggest but which
//     does not give B6C40961...;
//   - RSA_1_256 (§4.2.3): SHA256WithRSA over string1 with the private key,
//     base64 (the formula's "&key=" and toUpperCase cannot apply to an
//     RSA signature, and the example's value is base64).
func (s signer) sign(m Message) (string, error) {
	text := m.String1()
	switch s.typ {
	case SignMD5:
		sum := md5.Sum([]byte(text + "&key=" + string(s.key)))
		return strings.ToUpper(hex.EncodeToString(sum[:])), nil
	case SignSHA256:
		h := hmac.New(sha256.New, s.key)
		h.Write([]byte(text + "&key=" + string(s.key)))
		return strings.ToUpper(hex.EncodeToString(h.Sum(nil))), nil
	case SignRSA:
		if s.priv == nil {
			return "", errors.New("no private key")
		}
		sum := sha256.Sum256([]byte(text))
		sig, err := rsa.SignPKCS1v15(rand.Reader, s.priv, crypto.SHA256, sum[:])
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(sig), nil
	}
	return "", fmt.Errorf("unsupported sign method %q", s.typ)
}

// verify checks m's sign. Whitespace inside it is ignored (the spec's own
// examples carry a stray space) and hex signs compare without case.
func (s signer) verify(m Message) bool {
	got := strings.Join(strings.Fields(m["sign"]), "")
	if got == "" {
		return false
	}
	if s.typ == SignRSA {
		sig, err := base64.StdEncoding.DecodeString(got)
		if err != nil || s.pub == nil {
			return false
		}
		sum := sha256.Sum256([]byte(m.String1()))
		return rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, sum[:], sig) == nil
	}
	want, err := s.sign(m)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.ToUpper(got)), []byte(want)) == 1
}

// marshal writes m as §3.2's XML: an <xml> root, one element per field,
// values in CDATA, fields sorted so answers are stable.
func (m Message) marshal() []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range keys {
		b.WriteString("<" + k + "><![CDATA[")
		// "]]>" cannot sit inside one CDATA section: split it.
		b.WriteString(strings.ReplaceAll(m[k], "]]>", "]]]]><![CDATA[>"))
		b.WriteString("]]></" + k + ">")
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

// parse reads §3.2's XML: "First-level node only. No nested nodes." One
// root (its name is not checked: the spec's examples are damaged there),
// children holding text only, each at most once.
func parse(body []byte) (Message, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	m := Message{}
	depth := 0
	var field string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if len(m) > 0 || field != "" {
					return nil, errors.New("more than one root")
				}
			case 2:
				field = t.Name.Local
				text.Reset()
				if _, dup := m[field]; dup {
					return nil, fmt.Errorf("field %s given twice", field)
				}
			default:
				return nil, errors.New("nested nodes")
			}
		case xml.EndElement:
			if depth == 2 {
				m[field] = text.String()
				field = ""
			}
			depth--
		case xml.CharData:
			switch depth {
			case 2:
				text.Write(t)
			default:
				if strings.TrimSpace(string(t)) != "" {
					return nil, errors.New("text outside a field")
				}
			}
		case xml.Directive:
			return nil, errors.New("directives are not allowed")
		}
		if len(m) > 256 {
			return nil, errors.New("too many fields")
		}
	}
	if depth != 0 {
		return nil, errors.New("unclosed element")
	}
	if len(m) == 0 {
		return nil, errors.New("no fields")
	}
	return m, nil
}

// field is one row of a request table (§6.1.3, §6.3.2, §6.4.2, §6.5.1,
// §6.6.3): name, required, String(n) or Int.
type field struct {
	name     string
	required bool
	max      int  // String(n): at most n bytes (body's "128 English, 42 Chinese" is bytes)
	integer  bool // Int: a whole number
}

// Services (§6.1.3 service, §6.3.2, §6.4.2, §6.5.1, §6.6.3).
const (
	svcWeChat      = "pay.weixin.native.intl"
	svcAlipay      = "pay.alipay.native.intl"
	svcUPI         = "pay.upi.native.intl"
	svcQuery       = "unified.trade.query"
	svcRefund      = "unified.trade.refund"
	svcRefundQuery = "unified.trade.refundquery"
	svcClose       = "unified.trade.close"
)

// everyRequest are the rows every request table repeats.
var everyRequest = []field{
	{"service", true, 32, false}, {"version", false, 8, false}, {"charset", false, 8, false},
	{"sign_type", false, 16, false}, {"groupno", false, 32, false}, {"mch_id", true, 32, false},
	{"nonce_str", true, 32, false}, {"sign", true, 344, false}, {"sign_agentno", false, 32, false},
}

// requestTables are each service's own rows, and the groups of which
// "at least one ... should exist".
var requestTables = map[string]struct {
	rows  []field
	oneOf [][]string
}{
	"create": {rows: []field{
		{"out_trade_no", true, 32, false}, {"device_info", false, 32, false}, {"body", true, 128, false},
		{"attach", false, 127, false}, {"total_fee", true, 0, true}, {"mch_create_ip", true, 16, false},
		{"notify_url", true, 255, false}, {"time_start", false, 14, false}, {"time_expire", false, 14, false},
		{"op_user_id", false, 32, false}, {"goods_tag", false, 32, false}, {"product_id", false, 32, false},
		{"limit_credit_pay", false, 32, false},
	}},
	svcQuery: {rows: []field{{"out_trade_no", false, 32, false}, {"transaction_id", false, 32, false}},
		oneOf: [][]string{{"out_trade_no", "transaction_id"}}},
	svcRefund: {rows: []field{
		{"out_trade_no", false, 32, false}, {"transaction_id", false, 32, false}, {"out_refund_no", true, 32, false},
		{"total_fee", true, 0, true}, {"refund_fee", true, 0, true}, {"op_user_id", true, 32, false},
		{"refund_channel", false, 16, false},
	}, oneOf: [][]string{{"out_trade_no", "transaction_id"}}},
	svcRefundQuery: {rows: []field{
		{"out_trade_no", false, 32, false}, {"transaction_id", false, 32, false},
		{"out_refund_no", false, 32, false}, {"refund_id", false, 32, false},
	}, oneOf: [][]string{{"out_trade_no", "transaction_id"}, {"out_refund_no", "refund_id"}}},
	svcClose: {rows: []field{{"out_trade_no", true, 32, false}}},
}

func tableName(service string) string {
	switch service {
	case svcWeChat, svcAlipay, svcUPI:
		return "create"
	}
	return service
}

// check applies a request's table; the message is what the platform's
// §8.1 "400" errors say ("XXX: This field is required", "total_fee:
// Invalid value").
func check(m Message) error {
	t, ok := requestTables[tableName(m["service"])]
	if !ok {
		return errors.New("Unsupported Api")
	}
	for _, rows := range [][]field{everyRequest, t.rows} {
		for _, f := range rows {
			v := m[f.name]
			switch {
			case v == "" && f.required:
				return fmt.Errorf("%s: This field is required", f.name)
			case v == "":
			case !utf8.ValidString(v):
				return errors.New("Parse xml error, please use UTF-8 encoded")
			case f.integer && !wholeNumber(v):
				return fmt.Errorf("%s: Invalid value", f.name)
			case !f.integer && len(v) > f.max:
				return fmt.Errorf("%s: Invalid value (longer than %d)", f.name, f.max)
			}
		}
	}
	for _, g := range t.oneOf {
		if m[g[0]] == "" && m[g[1]] == "" {
			return fmt.Errorf("%s %s is required", g[0], g[1])
		}
	}
	for _, ts := range []string{"time_start", "time_expire"} {
		if v := m[ts]; v != "" && (len(v) != 14 || !wholeNumber(v)) {
			return fmt.Errorf("%s: Invalid value", ts)
		}
	}
	return nil
}

// wholeNumber: "Integral number is allowed only" (total_fee), positive,
// no sign, no leading zero.
func wholeNumber(s string) bool {
	if s == "" || s[0] == '0' || len(s) > 18 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
