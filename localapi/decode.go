package localapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// maxBody bounds request bodies; a payment request is a few hundred bytes.
const maxBody = 16 << 10

// readBody reads the whole body, at most maxBody bytes (413 beyond).
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBody {
		return nil, problemf("payload-too-large", "", "the body is %d bytes; at most %d are accepted", r.ContentLength, maxBody)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, problemf("malformed-request", "", "reading the body: %v", err)
	}
	if len(b) > maxBody {
		return nil, problemf("payload-too-large", "", "the body is larger than %d bytes", maxBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// decodeBody decodes a JSON object into v, strictly: no unknown field, no
// field twice, no field spelled in another case than v's (encoding/json
// would match "AMOUNT" to amount, and keep the last of two), no trailing
// data. A body that is not JSON at all is 415 unless it was labelled JSON
// (then 400); a JSON body is accepted with any Content-Type, since curl -d
// labels it a form. required: an empty body is refused.
func decodeBody(r *http.Request, v any, required bool) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if required {
			return problemf("malformed-request", "", "empty body; send a JSON object")
		}
		return nil
	}
	if !json.Valid(b) {
		if !labelledJSON(r) {
			return problemf("unsupported-media-type", "Content-Type", "the body is not JSON (Content-Type %q); send a JSON object", r.Header.Get("Content-Type"))
		}
		return problemf("malformed-request", "", "bad JSON: %v", jsonError(b))
	}
	if err := checkKeys(b, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return problemf("malformed-request", te.Field, "field %s: JSON %s where %s was expected", te.Field, te.Value, te.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return problemf("malformed-request", strings.Trim(f, `"`), "bad JSON: %v", err)
		}
		return problemf("malformed-request", "", "bad JSON: %v", err)
	}
	if dec.More() {
		return problemf("malformed-request", "", "trailing data after the JSON object")
	}
	return nil
}

func labelledJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func jsonError(b []byte) error {
	var x any
	return json.Unmarshal(b, &x)
}

// checkKeys walks the JSON text and refuses an object with a key twice or
// two keys that differ only in case, and top-level keys that match one of
// v's fields only when case is ignored.
func checkKeys(b []byte, v any) error {
	known := jsonFields(v)
	dec := json.NewDecoder(bytes.NewReader(b))
	type obj struct {
		seen map[string]string // lower-case -> as sent
		key  bool              // next token is a key
	}
	var stack []*obj
	depth := func() int { return len(stack) }
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return problemf("malformed-request", "", "bad JSON: %v", err)
		}
		var top *obj
		if depth() > 0 {
			top = stack[depth()-1]
		}
		if top != nil && top.key {
			if k, ok := tok.(string); ok {
				lk := strings.ToLower(k)
				if prev, dup := top.seen[lk]; dup {
					if prev == k {
						return problemf("malformed-request", k, "field %q appears twice", k)
					}
					return problemf("malformed-request", k, "fields %q and %q differ only in case", prev, k)
				}
				top.seen[lk] = k
				if depth() == 1 && known != nil {
					if want, ok := known[lk]; ok && want != k {
						return problemf("malformed-request", k, "field %q must be spelled %q", k, want)
					}
				}
				top.key = false
				continue
			}
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:depth()-1]
				if depth() > 0 && stack[depth()-1] != nil {
					stack[depth()-1].key = true
				}
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &obj{seen: map[string]string{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, nil) // arrays hold values, not keys
			continue
		case json.Delim(']'):
			stack = stack[:depth()-1]
		case json.Delim('}'):
			stack = stack[:depth()-1]
		}
		// A value ended: the enclosing object expects a key next.
		if depth() > 0 && stack[depth()-1] != nil {
			stack[depth()-1].key = true
		}
	}
}

// jsonFields maps the lower-case JSON names of struct v's fields to their
// spelling; nil when v is not a pointer to a struct.
func jsonFields(v any) map[string]string {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	t = t.Elem()
	out := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[strings.ToLower(name)] = name
	}
	return out
}
