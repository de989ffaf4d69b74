package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/hipopay"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/swiftpass"
	"github.com/posagent/posagent/hw/display/poledisplay"
	"github.com/posagent/posagent/hw/display/webdisplay"
	"github.com/posagent/posagent/hw/scanner/evdevscan"
	"github.com/posagent/posagent/hw/scanner/hidscan"
	"github.com/posagent/posagent/hw/scanner/serialscan"
)

// gatewayOptions are the adapters' option types, by kind.
var gatewayOptions = map[string]any{
	"mmsp":      mmsp.Options{},
	"allinpay":  allinpay.Options{},
	"swiftpass": swiftpass.Options{},
	"allpay":    allpay.Options{},
	"hipopay":   hipopay.Options{},
}

// TestExampleConfigsDocumentEverySetting keeps configs/ true: every
// example parses and its gateway options decode strictly, the main example
// names every setting of the config and of every device section (set or in
// a comment), and configs/examples/KIND.yaml every option of that gateway.
func TestExampleConfigsDocumentEverySetting(t *testing.T) {
	files, _ := filepath.Glob("../../configs/examples/*.yaml")
	files = append(files, "../../configs/posagent.example.yaml")
	texts := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[filepath.Base(f)] = string(b)
		cfg, err := configs.Parse(b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, gc := range cfg.Gateways {
			o, ok := gatewayOptions[gc.Kind]
			if !ok {
				t.Errorf("%s: gateway kind %q has no options type in this test", f, gc.Kind)
				continue
			}
			v := reflect.New(reflect.TypeOf(o)).Interface()
			if err := gc.Decode(v); err != nil {
				t.Errorf("%s: gateway %s: %v", f, gc.Name, err)
			}
		}
	}
	main := texts["posagent.example.yaml"]
	for what, v := range map[string]any{
		"the config":       configs.Config{},
		"serial scanners":  serialscan.Options{},
		"HID scanners":     hidscan.Options{},
		"evdev scanners":   evdevscan.Options{},
		"escpos printers":  escposConfig{},
		"virtual printers": virtualConfig{},
		"the web display":  webdisplay.Options{},
		"pole displays":    poledisplay.Options{},
	} {
		if missing := undocumented(reflect.TypeOf(v), main); len(missing) > 0 {
			t.Errorf("configs/posagent.example.yaml does not document these settings of %s: %s", what, strings.Join(missing, ", "))
		}
	}
	for kind, o := range gatewayOptions {
		text, ok := texts[kind+".yaml"]
		if !ok {
			t.Errorf("configs/examples/%s.yaml is missing", kind)
			continue
		}
		if missing := undocumented(reflect.TypeOf(o), text); len(missing) > 0 {
			t.Errorf("configs/examples/%s.yaml does not document: %s", kind, strings.Join(missing, ", "))
		}
	}
}

// undocumented lists the YAML names of t's settings (nested sections
// included) that appear nowhere in text as "name:".
func undocumented(t reflect.Type, text string) []string {
	var missing []string
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() == "time" || t.Name() == "Node" {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			if !f.IsExported() || tag == "-" || tag == "" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if strings.Contains(opts, "inline") {
				walk(f.Type)
				continue
			}
			if !regexp.MustCompile(`(?m)(^|[\s{,#])` + regexp.QuoteMeta(name) + `:`).MatchString(text) {
				missing = append(missing, name)
			}
			walk(f.Type)
		}
	}
	walk(t)
	sort.Strings(missing)
	return missing
}
