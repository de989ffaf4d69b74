package swiftpass

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// Fields is one wire message: the first-level elements of the XML document
// (§3.2: "First-level node only. No nested nodes.") with their raw values,
// which are what is signed. An empty value is the same as an absent field
// (§4.1: "the null value will not transfer and will not participate").
type Fields map[string]string

// SignField is the one field never signed.
const SignField = "sign"

// maxFields bounds a parsed message; the largest table has about 60.
const maxFields = 512

// SigningString is the text that is signed (§4.1): every non-empty field
// except sign, sorted by field name in byte (ASCII) order, joined as
// k=v&k=v, values as they are (no URL encoding).
func (f Fields) SigningString() string {
	keys := make([]string, 0, len(f))
	for k, v := range f {
		if k == SignField || v == "" {
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

// Marshal renders the message as the flat XML document the platform
// takes: <xml>, then one element per non-empty field in sorted order (so a
// request's bytes are reproducible), every value in CDATA as the spec's
// examples write them.
func (f Fields) Marshal() []byte {
	keys := make([]string, 0, len(f))
	for k, v := range f {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<xml>\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "<%s><![CDATA[%s]]></%s>\n", k, cdata(f[k]), k)
	}
	b.WriteString("</xml>\n")
	return b.Bytes()
}

// cdata makes s safe inside one CDATA section: "]]>" would end it, so it
// is split across two sections (the reader joins them back).
func cdata(s string) string {
	return strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>")
}

// ParseXML reads an answer or notification body: one root element (the
// spec's <xml>) whose children are elements holding text or CDATA. Anything
// else is malformed: nested elements, a field given twice, text outside the
// fields, a DOCTYPE, more than one root, invalid UTF-8. The caller treats a
// malformed answer as missing (pos.Unknown), never as a refusal.
func ParseXML(body []byte) (Fields, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	if !utf8.Valid(body) {
		return nil, errors.New("body is not UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	var (
		f       Fields
		root    bool   // inside the root element
		done    bool   // the root element has ended
		field   string // the field being read, "" between fields
		val     strings.Builder
		hasElem bool
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case done:
				return nil, errors.New("more than one root element")
			case !root:
				if t.Name.Local != "xml" {
					return nil, fmt.Errorf("root element <%s>, want <xml>", t.Name.Local)
				}
				root, f = true, Fields{}
			case field != "":
				return nil, fmt.Errorf("field %q has nested elements", field)
			default:
				field = t.Name.Local
				if _, dup := f[field]; dup {
					return nil, fmt.Errorf("field %q given twice", field)
				}
				if len(f) >= maxFields {
					return nil, errors.New("too many fields")
				}
				val.Reset()
				hasElem = true
			}
		case xml.EndElement:
			switch {
			case field != "":
				f[field] = val.String()
				field = ""
			case root:
				root, done = false, true
			}
		case xml.CharData:
			switch {
			case field != "":
				val.Write(t)
			case len(bytes.TrimSpace(t)) != 0:
				return nil, errors.New("text outside the fields")
			}
		case xml.Directive:
			return nil, errors.New("directives are not allowed")
		}
	}
	if !done {
		return nil, errors.New("no complete <xml> element")
	}
	if !hasElem {
		return nil, errors.New("no fields")
	}
	return f, nil
}
