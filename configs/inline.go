package configs

import (
	"fmt"
	"io/fs"
	"strings"

	"gopkg.in/yaml.v3"
)

// secretOptions are the option names whose inline values are secrets (the
// MD5/HMAC keys of MMSP, Swiftpass and AllPay). A value for one of them
// sits in the config file itself, so the file must be as private as a key
// file.
var secretOptions = map[string]bool{"key": true, "secret": true, "password": true, "token": true}

// checkInlineSecrets refuses a config file that group or others may read
// when it holds an inline secret, as keyfile refuses such a key file: the
// key signs payments and refunds. The packaged config is root:posagent
// 0640, so keys go in key_file (0600, owned by posagent) or a credential;
// an inline key needs the config itself at 0600.
func (c *Config) checkInlineSecrets(path string, mode fs.FileMode) error {
	if mode.Perm()&0o077 == 0 {
		return nil
	}
	var found []string
	var walk func(field string, n *yaml.Node)
	walk = func(field string, n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if secretOptions[strings.ToLower(k.Value)] && v.Kind == yaml.ScalarNode && v.Value != "" {
					found = append(found, fmt.Sprintf("%s.%s (line %d)", field, k.Value, k.Line))
					continue
				}
				walk(field+"."+k.Value, v)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				walk(fmt.Sprintf("%s[%d]", field, i), item)
			}
		}
	}
	for i := range c.Gateways {
		walk(fmt.Sprintf("gateways[%d].options", i), &c.Gateways[i].Options)
	}
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("%s: an inline secret in a file that group or others can read (mode %04o): %s; move it to key_file (chmod 600) or a credential (key_file: credential:NAME), or chmod 600 %s",
		strings.Join(found, ", "), mode.Perm(), "the key signs payments and refunds", path)
}
