package allinpaysim

// The simulator's own reading of the wire (spec §1.4.2, §1.4.3, §1.5.1),
// written from the spec and sharing nothing with gateways/allinpay: if the
// adapter misreads a rule, the two disagree and the tests say so.

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// message is one wire message: field name to value. An empty value is a
// field not passed (§1.4.2 "No passing is needed for parameters without
// value").
type message map[string]string

// readMessage reads a request body in either key-value shape the platform
// is known to take: a form (k=v&k=v, percent-encoded) or a flat JSON
// object. A key given twice is refused: which one was signed?
func readMessage(body []byte) (message, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	if !utf8.Valid(body) {
		return nil, errors.New("not UTF-8 (§1.4.3)")
	}
	m := message{}
	if body[0] == '{' {
		var raw map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("JSON: %w", err)
		}
		for k, v := range raw {
			var s string
			if err := json.Unmarshal(v, &s); err == nil {
				m[k] = s
				continue
			}
			var n json.Number
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			if err := d.Decode(&n); err == nil {
				m[k] = n.String()
				continue
			}
			return nil, fmt.Errorf("field %s is not a string or number", k)
		}
		return m, nil
	}
	for _, pair := range strings.Split(string(body), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("value of %s: %w", key, err)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("field %s given twice", key)
		}
		m[key] = val
	}
	return m, nil
}

// signedText is §1.4.2's "data required to be signed": all non-null fields
// except the signature, in dictionary order of the key, as key=value
// joined by "&", raw values (the example shows notifyUrl=http://...).
func (m message) signedText() string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if k != "signature" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, "&")
}

// sign adds the RSA2 signature: SHA256WithRSA over the UTF-8 bytes of the
// signed text, base64.
func (m message) sign(key *rsa.PrivateKey) error {
	h := sha256.Sum256([]byte(m.signedText()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		return err
	}
	m["signature"] = base64.StdEncoding.EncodeToString(sig)
	return nil
}

// verify checks the signature with the merchant's public key.
func (m message) verify(pub *rsa.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(m["signature"])
	if err != nil || len(sig) == 0 {
		return false
	}
	h := sha256.Sum256([]byte(m.signedText()))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
}

// form is the answer as a form body.
func (m message) form() []byte {
	v := url.Values{}
	for k, s := range m {
		if s != "" {
			v.Set(k, s)
		}
	}
	return []byte(v.Encode())
}

// json is the answer as a flat JSON object, transAmount as a number (the
// table's N12), everything else a string.
func (m message) json() []byte {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteByte(':')
		if k == "transAmount" && isNumeral(m[k]) {
			if n, err := strconv.ParseInt(m[k], 10, 64); err == nil {
				b.WriteString(strconv.FormatInt(n, 10))
				continue
			}
		}
		vj, _ := json.Marshal(m[k])
		b.Write(vj)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func isNumeral(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// dataType is one field's "Data style" from the request tables
// (§1.5.1.2): a class and a maximum length in bytes (§1.5.1.3: a Chinese
// character is 2 bytes, others 1).
type dataType struct {
	class string // N, AN, ANS, AS, A
	max   int
}

// mandatory marks an "M" field.
type field struct {
	name string
	dataType
	mandatory bool
}

// byteLen counts as §1.5.1.3 does: ASCII 1 byte, anything else
// (Chinese) 2.
func byteLen(s string) int {
	n := 0
	for _, r := range s {
		if r < 0x80 {
			n++
		} else {
			n += 2
		}
	}
	return n
}

// check reports what is wrong with v for this field, or "".
func (f field) check(v string) string {
	if v == "" {
		if f.mandatory {
			return f.name + " is mandatory"
		}
		return ""
	}
	if n := byteLen(v); n > f.max {
		return fmt.Sprintf("%s is %d bytes, at most %d", f.name, n, f.max)
	}
	for _, r := range v {
		digit := r >= '0' && r <= '9'
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		ok := true
		switch f.class {
		case "N":
			ok = digit
		case "A":
			ok = letter
		case "AN":
			// The appendix's own AN values are WXPAY_MICROPAY and the like.
			ok = digit || letter || r == '_'
		default: // classes with S: "special signals", unlisted: any printable
			ok = r >= 0x20 && r != 0x7f
		}
		if !ok {
			return fmt.Sprintf("%s has %q, not allowed in %s", f.name, r, f.class)
		}
	}
	return ""
}

func m(name, class string, max int) field { return field{name, dataType{class, max}, true} }
func c(name, class string, max int) field { return field{name, dataType{class, max}, false} }
func itoa(n int64) string                 { return strconv.FormatInt(n, 10) }
func fieldsOf(fs ...field) map[string]field {
	out := map[string]field{}
	for _, f := range fs {
		out[f.name] = f
	}
	return out
}

// The request tables, as this simulator reads them. Lengths the
// extraction damaged ("ANSx2" notifyUrl, "ANSx1" authCode) take the
// value the other tables give (256) or a generous one (128); mchNo is
// AN 20 in §1.5.2.1 and AS30 elsewhere; subAppid's "M" is for official
// accounts only and not enforced.
var (
	common = []field{m("requestNo", "AN", 32), m("version", "ANS", 6), m("accessCode", "AN", 20),
		m("transType", "AN", 20), m("signType", "AN", 8), m("signature", "ANS", 4096)}
	payTable = fieldsOf(append(common, m("mchNo", "AN", 20), m("outTransNo", "AN", 32), m("transAmount", "N", 12),
		c("tipsAmount", "N", 12), m("currency", "AN", 10), m("notifyUrl", "ANS", 256), c("storeId", "AN", 20),
		c("limitPay", "AN", 20), c("authCode", "ANS", 128), c("expireTime", "N", 10))...)
	queryTable  = fieldsOf(append(common, m("mchNo", "AS", 30), m("oriOutTransNo", "AS", 32))...)
	refundTable = fieldsOf(append(common, m("mchNo", "AS", 30), m("outTransNo", "AS", 32), m("oriOutTransNo", "AS", 32),
		m("transAmount", "N", 12), m("currency", "AN", 10), c("refundReson", "AS", 256), m("notifyUrl", "AS", 256))...)
	cancelTable = fieldsOf(append(common, m("mchNo", "AS", 30), m("outTransNo", "AS", 32), m("oriOutTransNo", "AS", 32),
		m("notifyUrl", "AS", 256))...)
	billTable = fieldsOf(append(common, m("billDate", "N", 8))...)
)

// tableFor is the request table of a transType (appendix §1.8.2).
func tableFor(tt string) (map[string]field, bool) {
	switch {
	case tt == "TRANS_QUERY":
		return queryTable, true
	case tt == "CLOSE_ORDER":
		return cancelTable, true
	case tt == "DOWNLOAD_CHECK_BILL":
		return billTable, true
	case strings.HasSuffix(tt, "_MICROPAY"), strings.HasSuffix(tt, "_SCANCODE"):
		return payTable, true
	case strings.HasSuffix(tt, "_RETURN"):
		return refundTable, true
	case strings.HasSuffix(tt, "_CANCEL"):
		return cancelTable, true
	}
	return nil, false
}

// validate checks a request against its table: every M field present,
// every listed field within its type. Fields the table does not list are
// let through (the spec's own signing example carries goodsSubject,
// organId, terminalId...).
func validate(req message) string {
	t, ok := tableFor(req["transType"])
	if !ok {
		return "transType " + req["transType"] + " is not in the appendix"
	}
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if msg := t[n].check(req[n]); msg != "" {
			return msg
		}
	}
	return ""
}
