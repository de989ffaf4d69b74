package allinpay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Fields is one wire message: the key-value pairs the spec's tables list,
// with the raw (not URL-encoded) values that are signed. An empty value is
// the same as an absent field (spec §1.4.2: "no passing is needed for
// parameters without value").
type Fields map[string]string

// SignatureField is the one field never signed.
const SignatureField = "signature"

// SigningString is the text that is signed (spec §1.4.2): every non-empty
// field except signature, sorted by key in byte order, joined as k=v&k=v.
// Values are not escaped: the spec's example signs
// "notifyUrl=http://www.test.com/...", not its URL encoding.
func (f Fields) SigningString() string {
	keys := make([]string, 0, len(f))
	for k, v := range f {
		if k == SignatureField || v == "" {
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
		b.WriteString(f[k])
	}
	return b.String()
}

// Encode is the HTTP body: the non-empty fields as
// application/x-www-form-urlencoded, sorted by key so the bytes of a request
// are reproducible (golden files).
func (f Fields) Encode() string {
	v := url.Values{}
	for k, s := range f {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// ParseFields reads a response or notification body. The spec says only
// "key-value"; the form encoding we send is accepted, and so is a flat JSON
// object of strings or numbers, the other key-value shape Allinpay's
// platforms are known to answer in. Anything else (nested JSON, a key given
// twice, a body that is not text) is malformed: the caller treats the answer
// as missing, never as a refusal.
func ParseFields(body []byte) (Fields, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	if !utf8.Valid(body) {
		return nil, errors.New("body is not UTF-8")
	}
	if body[0] == '{' {
		return parseJSONFields(body)
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("not key-value: %w", err)
	}
	f := make(Fields, len(vals))
	for k, vs := range vals {
		if k == "" {
			return nil, errors.New("empty key")
		}
		if len(vs) != 1 {
			return nil, fmt.Errorf("field %q given %d times", k, len(vs))
		}
		f[k] = vs[0]
	}
	return f, nil
}

func parseJSONFields(body []byte) (Fields, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	f := Fields{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("bad JSON: %w", err)
		}
		k, ok := tok.(string)
		if !ok || k == "" {
			return nil, errors.New("bad JSON key")
		}
		if _, dup := f[k]; dup {
			return nil, fmt.Errorf("field %q given twice", k)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, fmt.Errorf("bad JSON: %w", err)
		}
		switch v := tok.(type) {
		case string:
			f[k] = v
		case json.Number:
			f[k] = v.String()
		case bool:
			f[k] = strconv.FormatBool(v)
		case nil:
			f[k] = ""
		default:
			return nil, fmt.Errorf("field %q is not a flat value", k)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("unterminated JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data after JSON object")
	}
	return f, nil
}

// rule is one field's data type from the spec's tables (§1.5.1.2), such as
// "ANx32" (letters and digits, at most 32 bytes) or "N12" (digits, at most
// 12). The tables write the maximum as "x32", " 20" or "32"; all are read
// as "at most": version is "ANSx6" and its only value, V1.0, has 4.
type rule struct {
	class    string // "N", "A", "AN", "ANS", "AS", "NS", "S"
	max      int
	required bool
}

// fieldSpec binds a struct field to its wire name and rule.
type fieldSpec struct {
	index int
	name  string
	rule  rule
}

// parseTag reads `allinpay:"outTransNo,AN..32,M"`, or just the name for
// fields that are only received.
func parseTag(tag string) (name string, r rule, err error) {
	parts := strings.Split(tag, ",")
	if len(parts) == 1 && parts[0] != "" {
		return parts[0], rule{}, nil // a received field: name only
	}
	if len(parts) < 2 || len(parts) > 3 {
		return "", rule{}, fmt.Errorf("bad tag %q", tag)
	}
	name = parts[0]
	cls, n, ok := strings.Cut(parts[1], "..")
	if !ok {
		return "", rule{}, fmt.Errorf("bad rule in tag %q", tag)
	}
	r.class = cls
	if r.max, err = strconv.Atoi(n); err != nil {
		return "", rule{}, fmt.Errorf("bad length in tag %q", tag)
	}
	r.required = len(parts) == 3 && parts[2] == "M"
	return name, r, nil
}

var specCache sync.Map // reflect.Type -> []fieldSpec

// specsOf lists the tagged fields of a wire struct. The structs are few and
// fixed, so a bad tag is a programming error and panics at first use (the
// golden tests exercise every struct).
func specsOf(t reflect.Type) []fieldSpec {
	if s, ok := specCache.Load(t); ok {
		return s.([]fieldSpec)
	}
	var out []fieldSpec
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("allinpay")
		if !ok {
			continue
		}
		if sf.Type.Kind() != reflect.String {
			panic("allinpay: wire field " + sf.Name + " is not a string")
		}
		name, r, err := parseTag(tag)
		if err != nil {
			panic("allinpay: " + err.Error())
		}
		out = append(out, fieldSpec{index: i, name: name, rule: r})
	}
	specCache.Store(t, out)
	return out
}

// toFields validates a typed request against its rules and flattens it.
// The error names the field and its rule, so a bad store id in the config
// reads "storeId (AN..20): ..." rather than a refusal from the platform.
func toFields(req any) (Fields, error) {
	v := reflect.ValueOf(req)
	f := Fields{}
	for _, s := range specsOf(v.Type()) {
		val := v.Field(s.index).String()
		if err := s.rule.check(val); err != nil {
			return nil, fmt.Errorf("field %s (%s..%d): %w", s.name, s.rule.class, s.rule.max, err)
		}
		if val != "" {
			f[s.name] = val
		}
	}
	return f, nil
}

// fromFields fills a typed response from received fields. Fields the struct
// does not name are ignored (they are still covered by the signature);
// required ones that are missing are an error.
func fromFields(f Fields, out any) error {
	v := reflect.ValueOf(out).Elem()
	for _, s := range specsOf(v.Type()) {
		val := f[s.name]
		if val == "" && s.rule.required {
			return fmt.Errorf("mandatory field %s missing", s.name)
		}
		v.Field(s.index).SetString(val)
	}
	return nil
}

// wireLen is a value's length as the spec counts it (§1.5.1.3: bytes, a
// Chinese character 2). We count UTF-8 bytes, 3 for a Chinese character:
// never less than the spec's count, so a value we accept is accepted
// whichever way the platform counts.
func wireLen(s string) int { return len(s) }

func (r rule) check(s string) error {
	if s == "" {
		if r.required {
			return errors.New("is mandatory")
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return errors.New("is not UTF-8")
	}
	if n := wireLen(s); n > r.max {
		return fmt.Errorf("is %d bytes, longer than %d", n, r.max)
	}
	for _, c := range s {
		if !r.allows(c) {
			return fmt.Errorf("contains %q, not allowed in %s", c, r.class)
		}
	}
	return nil
}

func isDigit(c rune) bool  { return c >= '0' && c <= '9' }
func isLetter(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// allows decides whether c may appear in a field of r's class. N and A are
// strict. AN also admits '_' and '-': the spec's own AN values contain them
// (transType "WXPAY_MICROPAY" is AN20). The classes with S admit any
// printable character; the spec never lists which "special signals" it
// means, and its AS fields hold merchant numbers and free text alike.
func (r rule) allows(c rune) bool {
	switch r.class {
	case "N":
		return isDigit(c)
	case "A":
		return isLetter(c)
	case "AN":
		return isDigit(c) || isLetter(c) || c == '_' || c == '-'
	}
	return c >= 0x20 && c != 0x7f && (c < 0x80 || c >= 0xa0)
}
