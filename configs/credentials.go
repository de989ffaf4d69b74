package configs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// CredentialPrefix marks an option value that names a systemd credential
// instead of a file: `key_file: credential:mmsp-key` reads the file systemd
// placed at $CREDENTIALS_DIRECTORY/mmsp-key for the unit's
// `LoadCredential=mmsp-key:/etc/posagent/mmsp.key`. The key then never sits
// where the service user can read it outside the service's own run, and
// systemd makes the copy readable by that user alone.
const CredentialPrefix = "credential:"

// resolveCredentials replaces every option value "credential:NAME" in the
// gateways' and devices' sections by the absolute path of that credential.
// It needs $CREDENTIALS_DIRECTORY (set by systemd for units with
// LoadCredential=); without it, or with a name that is not a plain file
// name, it names the field and says why.
func (c *Config) resolveCredentials() error {
	dir := os.Getenv("CREDENTIALS_DIRECTORY")
	var errs []error
	walk := func(field string, n *yaml.Node) {
		errs = append(errs, resolveNode(field, n, dir)...)
	}
	for i := range c.Gateways {
		walk(fmt.Sprintf("gateways[%d].options", i), &c.Gateways[i].Options)
	}
	for i := range c.Scanners {
		walk(fmt.Sprintf("scanners[%d].options", i), &c.Scanners[i].Options)
	}
	if c.Printer != nil {
		walk("printer.options", &c.Printer.Options)
	}
	for i := range c.Display {
		f := "display.options"
		if len(c.Display) > 1 {
			f = fmt.Sprintf("display[%d].options", i)
		}
		walk(f, &c.Display[i].Options)
	}
	return errors.Join(errs...)
}

func resolveNode(field string, n *yaml.Node, dir string) []error {
	var errs []error
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			errs = append(errs, resolveNode(field+"."+n.Content[i].Value, n.Content[i+1], dir)...)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			errs = append(errs, resolveNode(fmt.Sprintf("%s[%d]", field, i), item, dir)...)
		}
	case yaml.ScalarNode:
		name, ok := strings.CutPrefix(n.Value, CredentialPrefix)
		if !ok {
			return nil
		}
		switch {
		case name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == "..":
			errs = append(errs, fmt.Errorf("%s (line %d): %q: a credential is named by a plain name, as in LoadCredential=NAME:/path", field, n.Line, n.Value))
		case dir == "":
			errs = append(errs, fmt.Errorf("%s (line %d): %q needs the unit's LoadCredential=%s:/path/to/file ($CREDENTIALS_DIRECTORY is not set: posagent was not started by systemd with credentials)", field, n.Line, n.Value, name))
		default:
			n.Value = filepath.Join(dir, name)
		}
	}
	return errs
}
