// Package openapitest checks HTTP answers against an OpenAPI 3.1 document:
// the operations it lists, and a JSON Schema validator for the subset of
// JSON Schema the posagent document uses (type, enum, properties, required,
// additionalProperties, items, minimum, maximum, minLength, maxLength,
// format date-time, local $ref). Anything else in a schema is an error, so
// the document cannot quietly use what this does not check.
package openapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Doc is a parsed OpenAPI document.
type Doc struct {
	root map[string]any
}

// Operation is one method on one path template.
type Operation struct {
	Method string // GET, POST
	Path   string // /v1/payments/{id}
}

// Load parses an OpenAPI 3.1 document.
func Load(b []byte) (*Doc, error) {
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	if v, _ := root["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		return nil, fmt.Errorf("openapi version %q, want 3.1.x", v)
	}
	return &Doc{root: root}, nil
}

// Operations lists the document's operations, sorted.
func (d *Doc) Operations() []Operation {
	var out []Operation
	paths, _ := d.root["paths"].(map[string]any)
	for p, item := range paths {
		for m := range item.(map[string]any) {
			switch m {
			case "get", "post", "put", "delete", "patch":
				out = append(out, Operation{Method: strings.ToUpper(m), Path: p})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Match finds the path template a concrete path belongs to.
func (d *Doc) Match(path string) (string, bool) {
	paths, _ := d.root["paths"].(map[string]any)
	segs := strings.Split(path, "/")
	// The template with the fewest parameters wins, as in net/http's mux:
	// /v1/payments/lookup is itself, not /v1/payments/{id}.
	best, bestParams := "", len(segs)+1
	for tmpl := range paths {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		ok, params := true, 0
		for i := range ts {
			if strings.HasPrefix(ts[i], "{") {
				params++
				continue
			}
			if ts[i] != segs[i] {
				ok = false
				break
			}
		}
		if ok && params < bestParams {
			best, bestParams = tmpl, params
		}
	}
	return best, best != ""
}

// CheckAnswer validates an answer to method on the concrete path: its
// status must be documented for the operation, and a JSON body must match
// the documented schema for its content type.
func (d *Doc) CheckAnswer(method, path string, status int, contentType string, body []byte) error {
	tmpl, ok := d.Match(path)
	if !ok {
		return fmt.Errorf("%s %s: path not in the document", method, path)
	}
	op, ok := d.root["paths"].(map[string]any)[tmpl].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s: method not in the document", method, tmpl)
	}
	resp, ok := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s: status %d not documented", method, tmpl, status)
	}
	resp = d.deref(resp)
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(bytes.TrimSpace(body)) != 0 {
			return fmt.Errorf("%s %s %d: body where none is documented", method, tmpl, status)
		}
		return nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	media, ok := content[mt].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s %d: content type %q not documented", method, tmpl, status, contentType)
	}
	if !strings.HasSuffix(mt, "json") {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%s %s %d: body is not JSON: %v", method, tmpl, status, err)
	}
	if err := d.Validate(media["schema"], v); err != nil {
		return fmt.Errorf("%s %s %d: %v", method, tmpl, status, err)
	}
	return nil
}

// Schema returns components/schemas/name.
func (d *Doc) Schema(name string) any {
	return d.root["components"].(map[string]any)["schemas"].(map[string]any)[name]
}

func (d *Doc) deref(m map[string]any) map[string]any {
	for {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = d.root
		for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[p]
		}
		m = cur.(map[string]any)
	}
}

// Validate checks the JSON value v (decoded with UseNumber) against schema.
func (d *Doc) Validate(schema any, v any) error { return d.validate(schema, v, "$") }

var known = map[string]bool{
	"$ref": true, "type": true, "enum": true, "properties": true, "required": true,
	"additionalProperties": true, "items": true, "minimum": true, "maximum": true,
	"minLength": true, "maxLength": true, "format": true, "description": true,
}

func (d *Doc) validate(schema any, v any, at string) error {
	s, ok := schema.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: schema is not an object", at)
	}
	s = d.deref(s)
	for k := range s {
		if !known[k] {
			return fmt.Errorf("%s: schema keyword %q is not supported by this validator", at, k)
		}
	}
	if t, ok := s["type"].(string); ok {
		if err := checkType(t, v, at); err != nil {
			return err
		}
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if fmt.Sprint(x) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", at, v, e)
		}
	}
	switch x := v.(type) {
	case string:
		if n, ok := num(s["minLength"]); ok && float64(len([]rune(x))) < n {
			return fmt.Errorf("%s: shorter than %v", at, n)
		}
		if n, ok := num(s["maxLength"]); ok && float64(len([]rune(x))) > n {
			return fmt.Errorf("%s: longer than %v", at, n)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				return fmt.Errorf("%s: %q is not an RFC 3339 date-time", at, x)
			}
		}
	case json.Number:
		f, _ := x.Float64()
		if n, ok := num(s["minimum"]); ok && f < n {
			return fmt.Errorf("%s: %v is below the minimum %v", at, f, n)
		}
		if n, ok := num(s["maximum"]); ok && f > n {
			return fmt.Errorf("%s: %v is above the maximum %v", at, f, n)
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					return fmt.Errorf("%s: required property %q is missing", at, r)
				}
			}
		}
		for k, val := range x {
			ps, ok := props[k]
			if !ok {
				if ap, ok := s["additionalProperties"].(bool); ok && !ap {
					return fmt.Errorf("%s: property %q is not in the schema", at, k)
				}
				continue
			}
			if err := d.validate(ps, val, at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		if items, ok := s["items"]; ok {
			for i, e := range x {
				if err := d.validate(items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

func checkType(t string, v any, at string) error {
	ok := false
	switch t {
	case "object":
		_, ok = v.(map[string]any)
	case "array":
		_, ok = v.([]any)
	case "string":
		_, ok = v.(string)
	case "boolean":
		_, ok = v.(bool)
	case "null":
		ok = v == nil
	case "number":
		_, ok = v.(json.Number)
	case "integer":
		if n, isNum := v.(json.Number); isNum {
			_, err := strconv.ParseInt(n.String(), 10, 64)
			ok = err == nil
		}
	default:
		return fmt.Errorf("%s: unknown type %q", at, t)
	}
	if !ok {
		return fmt.Errorf("%s: %v is not of type %s", at, v, t)
	}
	return nil
}
