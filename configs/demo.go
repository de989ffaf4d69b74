package configs

import _ "embed"

// DemoYAML is the demo's configuration (demo.yaml), embedded so that
// `posagent demo` runs with exactly the checked-in file and
// `posagent demo --print-config` can hand it out.
//
//go:embed demo.yaml
var DemoYAML []byte

// Demo parses DemoYAML.
func Demo() (*Config, error) { return Parse(DemoYAML) }
