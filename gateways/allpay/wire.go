package allpay

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Wire constants every request carries (§4.2–§4.8 tables).
const (
	Version = "VER000000005"
	CharSet = "UTF-8"
	// DefaultAcqID is the acqID every table gives as a fixed value.
	DefaultAcqID = "99020344"
	// TradeFromQR is the purchase mode whose answer carries code_url for
	// the till to show (§5.1.1 WX, §5.2.4 AP, §5.9.2 APHK).
	TradeFromQR = "QRCODE"
	// TimeLayout is transTime and GWTime: yyyyMMddHHmmss.
	TimeLayout = "20060102150405"
)

// Transaction types (transType) posagent sends.
const (
	TransPurchase    = "PURC"
	TransInquiry     = "INQY"
	TransRefund      = "REFD"
	TransRefundQuery = "RFQY"
	TransVoid        = "VOID"
)

// Paths of each interface under the endpoint (§4.1). Cancellation is
// "canc" although its transType is VOID.
var paths = map[string]string{
	TransPurchase:    "/api/unifiedorder",
	TransInquiry:     "/api/orderquery",
	TransRefund:      "/api/refund",
	TransRefundQuery: "/api/refundquery",
	TransVoid:        "/api/canc",
}

// PathFor is the URL path (§4.1) of a transType; "" for one posagent does
// not send.
func PathFor(transType string) string { return paths[transType] }

// TransTypeForPath is the inverse of PathFor, for the simulator.
func TransTypeForPath(path string) string {
	for tt, p := range paths {
		if p == path {
			return tt
		}
	}
	return ""
}

// platformZone is the platform's clock (Shanghai, UTC+8) for transTime; a
// fixed zone so a till without tzdata formats it right.
var platformZone = time.FixedZone("UTC+8", 8*60*60)

// FormatTime formats t as the platform's transTime.
func FormatTime(t time.Time) string { return t.In(platformZone).Format(TimeLayout) }

// ParseTime reads a transTime or GWTime; zero when malformed.
func ParseTime(s string) time.Time {
	t, err := time.ParseInLocation(TimeLayout, s, platformZone)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Encode is the HTTP body of a request: the non-empty fields as
// application/x-www-form-urlencoded, sorted by name so the bytes are
// reproducible (golden files).
func (f Fields) Encode() string {
	v := url.Values{}
	for k, s := range f {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// ParseFields reads an answer or notification body. The spec says
// notifications are JSON and says nothing of the synchronous answers'
// encoding, so both a flat JSON object and the form encoding requests use
// are read. Values must be strings, numbers, booleans or null (null is an
// empty field; a number is kept as written, which is what was signed);
// nested objects, a field given twice in a form, invalid UTF-8 or
// trailing data make the body malformed, which the caller treats as no
// answer at all, never as a refusal.
func ParseFields(body []byte) (Fields, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	if !utf8.Valid(body) {
		return nil, errors.New("body is not UTF-8")
	}
	if body[0] == '{' {
		return parseJSON(body)
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("not a form: %w", err)
	}
	f := Fields{}
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, fmt.Errorf("field %q given %d times", k, len(vs))
		}
		if !utf8.ValidString(k) || !utf8.ValidString(vs[0]) {
			return nil, errors.New("form is not UTF-8")
		}
		f[k] = vs[0]
	}
	if len(f) == 0 {
		return nil, errors.New("no fields")
	}
	return f, nil
}

func parseJSON(body []byte) (Fields, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("data after the JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the JSON object")
	}
	if len(m) == 0 {
		return nil, errors.New("no fields")
	}
	f := make(Fields, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			f[k] = v
		case json.Number:
			f[k] = v.String()
		case bool:
			f[k] = fmt.Sprint(v)
		case nil:
			f[k] = ""
		default:
			return nil, fmt.Errorf("field %q is not a scalar", k)
		}
	}
	return f, nil
}

// JSON is the body of a notification as the platform sends it: a flat
// object of strings (the simulator's encoding).
func (f Fields) JSON() []byte {
	m := make(map[string]string, len(f))
	for k, v := range f {
		if v != "" {
			m[k] = v
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m) // a map of strings always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Goods is one line of detailInfo.
type Goods struct {
	Name     string `json:"goods_name"`
	Quantity string `json:"quantity"`
}

// DetailInfo encodes goods as §4.2 asks: the JSON array
// [{"goods_name":…,"quantity":"…"}], base64 (standard, padded) "before
// signing and sending". HTML characters are not escaped, as in the spec's
// sample, which this reproduces byte for byte.
func DetailInfo(goods []Goods) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(goods) // strings only
	return base64.StdEncoding.EncodeToString(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// truncateBytes cuts s to at most n bytes without splitting a character.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// clean replaces control characters (which no field may carry) with spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
