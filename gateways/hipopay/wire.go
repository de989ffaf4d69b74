package hipopay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The four headers of a signed message (Digital Signature, step IIII).
// Answers and notifications carry Timestamp and Signature the same way.
const (
	HeaderMerchantNO = "MerchantNO"
	HeaderVersion    = "Version"
	HeaderTimestamp  = "Timestamp"
	HeaderSignature  = "Signature"
)

// The API paths in scope (the spec's API List); see doc.go.
const (
	PathPayment  = "/payment"
	PathRefund   = "/payment_refund"
	PathBill     = "/download_bill"
	PathForex    = "/wechatpay/forex_rate"
	formType     = "application/x-www-form-urlencoded"
	jsonType     = "application/json"
	responseName = "response"
)

// Timestamp formats t as the Timestamp header: Unix seconds in decimal.
// The spec does not define the format; seconds are what the mini-program
// prepay parameters carry ("timeStamp": "1550548767").
func Timestamp(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// ParseTimestamp reads a Timestamp header: Unix seconds (10 digits), or
// milliseconds (13 digits), which some signers send.
func ParseTimestamp(s string) (time.Time, error) {
	if s == "" || len(s) > 13 || !digits(s) {
		return time.Time{}, fmt.Errorf("Timestamp %q is not Unix seconds", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if len(s) == 13 {
		return time.UnixMilli(n), nil
	}
	return time.Unix(n, 0), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// AnswerParams reads a JSON answer or notification into the parameters its
// signature covers. The spec defines the signed text over "the returned
// contents" as parameters (k=v), not over JSON, so a JSON object is read as
// parameters thus:
//   - the members of the "response" object are lifted beside is_success,
//     error, error_message and return_message (a name in both places is
//     refused as ambiguous);
//   - a string is its value; a number, true or false is its JSON text as
//     written (so "8.88" and 8.88 sign alike);
//   - null is absent;
//   - any deeper object or array (prepay_params, promotion_detail) is its
//     compact JSON text.
//
// Anything but one JSON object is an error.
func AnswerParams(body []byte) (Params, error) {
	var top map[string]json.RawMessage
	if err := strictObject(body, &top); err != nil {
		return nil, err
	}
	p := Params{}
	for k, raw := range top {
		if k == responseName && firstByte(raw) == '{' {
			var inner map[string]json.RawMessage
			if err := strictObject(raw, &inner); err != nil {
				return nil, fmt.Errorf("%s: %w", responseName, err)
			}
			for ik, iraw := range inner {
				if _, dup := top[ik]; dup {
					return nil, fmt.Errorf("%q is both a top-level and a %s member", ik, responseName)
				}
				if err := p.put(ik, iraw); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := p.put(k, raw); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p Params) put(k string, raw json.RawMessage) error {
	if _, dup := p[k]; dup {
		return fmt.Errorf("member %q repeated", k)
	}
	switch c := firstByte(raw); {
	case c == 'n':
		return nil
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("member %q: %w", k, err)
		}
		p[k] = s
	case c == '{' || c == '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return fmt.Errorf("member %q: %w", k, err)
		}
		p[k] = b.String()
	default: // number, true, false: as written
		p[k] = string(bytes.TrimSpace(raw))
	}
	return nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// strictObject decodes exactly one JSON object, refusing repeated member
// names (which would let two readers see different values) and trailing
// data.
func strictObject(b []byte, v *map[string]json.RawMessage) error {
	if firstByte(b) != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	// Repeated names: json.Unmarshal keeps the last; count them instead.
	dec = json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return err
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the name
			return err
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
		n++
	}
	if n != len(*v) {
		return errors.New("a member name is repeated")
	}
	return nil
}

// FormParams reads a form-encoded body (a notification sent as a form, or
// the simulator's view of a request). A repeated name is refused: the
// signature would not say which value was meant.
func FormParams(body []byte) (Params, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	return valuesParams(v)
}

func valuesParams(v url.Values) (Params, error) {
	p := Params{}
	for k, vs := range v {
		if len(vs) != 1 {
			return nil, fmt.Errorf("parameter %q repeated", k)
		}
		p[k] = vs[0]
	}
	return p, nil
}

// Encode is the parameters URL-encoded, sorted by name: a query string or
// a form body.
func (p Params) Encode() string {
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	return v.Encode()
}

// envelope is the common frame of every JSON answer.
type envelope struct {
	success       bool
	errCode       string // error
	errMessage    string // error_message
	returnMessage string // return_message (refund answers)
}

// readEnvelope reads is_success and the error fields from verified
// parameters. is_success is JSON true/false; the spec's examples write
// True/False (and "True"), which are read alike. A missing or other
// is_success is an error: the answer says nothing trustworthy.
func readEnvelope(p Params) (envelope, error) {
	e := envelope{errCode: p["error"], errMessage: p["error_message"], returnMessage: p["return_message"]}
	switch strings.ToLower(p["is_success"]) {
	case "true":
		e.success = true
	case "false":
	default:
		return envelope{}, fmt.Errorf("is_success is %q", p["is_success"])
	}
	return e, nil
}
