package configs

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decodeStrict fills v from n, refusing settings v does not have. Unlike
// yaml.Decoder.KnownFields, it works on the node as it was read, so every
// error carries the line in the file (not a line counted from inside an
// options: section after re-encoding), and it speaks of settings and
// values, never of Go types: the reader is an integrator editing YAML.
func decodeStrict(n *yaml.Node, v any) error {
	w := &walk{seen: map[*yaml.Node]bool{}, budget: maxWalk}
	if errs := w.unknownSettings(n, reflect.TypeOf(v), ""); len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := n.Decode(v); err != nil {
		return friendlyYAMLError(err)
	}
	return nil
}

var (
	nodeType        = reflect.TypeOf(yaml.Node{})
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textType        = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	durationType    = reflect.TypeOf(time.Duration(0))
)

// unknownSettings walks n against t and reports every mapping key t has no
// field for, with its line and the settings that are known there.
// maxWalk bounds the nodes one check visits: aliases of aliases expand
// exponentially ("billion laughs"), and no real config comes near it.
const maxWalk = 100_000

// walk is one check's state: the aliases being expanded (an alias that
// contains itself, "&a [*a]", must not loop; the decoder refuses it) and
// the nodes it may still visit.
type walk struct {
	seen   map[*yaml.Node]bool
	budget int
}

var errTooLarge = errors.New("the file expands to too many settings (aliases of aliases?)")

func (w *walk) unknownSettings(n *yaml.Node, t reflect.Type, where string) []error {
	if w.budget--; w.budget < 0 {
		if w.budget == -1 {
			return []error{errTooLarge}
		}
		return nil
	}
	seen := w.seen
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || seen[n.Alias] {
			return nil
		}
		seen[n.Alias] = true
		defer delete(seen, n.Alias)
		n = n.Alias
	}
	if t == nodeType || reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textType) {
		return nil // decoded by its own rules, or later by its owner
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // the decoder names the wrong shape
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				errs = append(errs, fmt.Errorf("line %d: unknown setting %q%s (known here: %s)", k.Line, k.Value, in(where), knownList(fields)))
				continue
			}
			errs = append(errs, w.unknownSettings(val, ft, join(where, k.Value))...)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				errs = append(errs, w.unknownSettings(item, t.Elem(), fmt.Sprintf("%s[%d]", where, i))...)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				errs = append(errs, w.unknownSettings(n.Content[i+1], t.Elem(), join(where, n.Content[i].Value))...)
			}
		}
	}
	return errs
}

// yamlFields maps the YAML names of t's fields (yaml.v3's rules: the tag's
// name, else the lower-cased field name; ",inline" structs contribute
// their fields) to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func knownList(fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

func in(where string) string {
	if where == "" {
		return ""
	}
	return " in " + where
}

var typeErrorLine = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+) `(.*)` into (.+)$")

// friendlyYAMLError rewrites yaml.v3's type errors ("cannot unmarshal !!str
// `5 s` into time.Duration") into what the value should have been.
func friendlyYAMLError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	lines := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := typeErrorLine.FindStringSubmatch(e)
		if m == nil {
			lines = append(lines, e)
			continue
		}
		lines = append(lines, fmt.Sprintf("line %s: %q is not %s", m[1], m[3], expected(m[4])))
	}
	return errors.New(strings.Join(lines, "; "))
}

// expected names what a Go type accepts, in the words of a config file.
func expected(goType string) string {
	switch {
	case goType == durationType.String():
		return "a duration (like 500ms, 5s or 2m)"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string":
		return "text (quote it)"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a section of settings"
	}
	return "a section of settings or a value of the right kind"
}
