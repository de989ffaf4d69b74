// Package configs is posagent's typed configuration: the YAML file an
// integrator writes, its defaults, and its validation. It builds nothing:
// cmd/posagent turns a valid Config into running parts. Device and gateway
// sections carry their implementation's own options, which that
// implementation decodes and validates (Section.Decode).
package configs

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultListen is the local API's default address: loopback only.
const DefaultListen = "127.0.0.1:8417"

// Config is the whole file.
type Config struct {
	// StateDir holds the journal (and its print queue), the API token, the
	// code-hash key, the simulators' ledgers and receipt previews (a
	// virtual printer's default dir is STATE_DIR/receipts). Default
	// /var/lib/posagent.
	StateDir string `yaml:"state_dir"`
	// Listen is the local API address; it must be a loopback address.
	Listen string `yaml:"listen"`
	// TokenFile holds the API bearer token; default STATE_DIR/api.token,
	// created (0600) when absent.
	TokenFile string `yaml:"token_file"`
	// LogLevel is debug, info, warn or error (default info).
	LogLevel string `yaml:"log_level"`
	// LogFormat is text (logfmt, the default) or json (one object per
	// line, for journald and log shippers).
	LogFormat string `yaml:"log_format"`
	// NotifyListen is where acquirers' asynchronous notifications are
	// received (POST /notify/GATEWAY). Empty disables it: polling alone
	// resolves every payment. It may listen beyond loopback, behind the
	// site's reverse proxy; notifications are trusted only by signature.
	NotifyListen string `yaml:"notify_listen"`

	Gateways []Gateway `yaml:"gateways"`
	Scanners []Section `yaml:"scanners"`
	// Printer is the receipt printer: kind escpos (options: transport usb,
	// serial, tcp or file, and the escpos.Options), virtual (dir, profile)
	// or text (path, columns). cmd/posagent decodes and checks the options.
	Printer *Section `yaml:"printer"`
	// Display is the customer display: kind terminal (screens on stderr),
	// web (a page for a second monitor or tablet; options listen,
	// allow_remote, title, idle_after, qr_pixels, languages,
	// wallet_languages, rates: webdisplay.Options), pole (a serial 2 x 20
	// pole display; options port, baud, profile, code_page, idle, title:
	// poledisplay.Options), both (terminal and web, with the web options)
	// or none. Several at once: a list of sections, or one section whose
	// kind is a list and whose options are keyed by kind
	// ({kind: [web, pole], options: {web: {...}, pole: {...}}}). No
	// section: no display.
	Display  Displays `yaml:"display"`
	Receipt  Receipt  `yaml:"receipt"`
	Payments Payments `yaml:"payments"`
	// Metrics is the Prometheus endpoint at /metrics on the API's
	// listeners, behind the API token unless Open.
	Metrics Metrics `yaml:"metrics"`
	// API is the local API's socket, limits and create wait (api.go).
	API API `yaml:"api"`
	// Routes choose the gateway of a request that names none (api.go).
	Routes []Route `yaml:"routes"`
	// Lanes group scanners by till (api.go).
	Lanes []Lane `yaml:"lanes"`
	// Outbox tunes the operator's outbox alert (outbox.go).
	Outbox Outbox `yaml:"outbox"`
	// Journal is the journal's retention policy (journal.go).
	Journal Journal `yaml:"journal"`
	// Reconcile schedules the daily reconciliation (outbox.go).
	Reconcile Reconcile `yaml:"reconcile"`

	// Dir is the directory of the config file; relative paths in
	// sections are resolved against it. Not read from YAML.
	Dir string `yaml:"-"`
}

// Gateway is one configured acquirer connection.
type Gateway struct {
	Name    string `yaml:"name"`
	Kind    string `yaml:"kind"` // registered adapter kind: mmsp, allinpay, ...
	Default bool   `yaml:"default"`
	// Options is the adapter's own section, decoded by the adapter.
	Options yaml.Node `yaml:"options"`
}

// Decode fills v (the adapter's Options struct) from the section, refusing
// unknown fields.
func (g Gateway) Decode(v any) error { return decodeNode(g.Options, v) }

// Section is a device configuration: a kind and the implementation's options.
type Section struct {
	Name    string    `yaml:"name"`
	Kind    string    `yaml:"kind"`
	Options yaml.Node `yaml:"options"`
}

// Decode fills v from the section's options, refusing unknown fields.
func (s Section) Decode(v any) error { return decodeNode(s.Options, v) }

// Displays are the customer displays: the display section is one section,
// a list of them, or one section with a list of kinds.
type Displays []Section

// UnmarshalYAML reads one section, a list, or a section whose kind is a
// list (its options then keyed by kind).
func (d *Displays) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var list []Section
		if err := n.Decode(&list); err != nil {
			return err
		}
		*d = list
		return nil
	}
	var multi struct {
		Name    string    `yaml:"name"`
		Kind    yaml.Node `yaml:"kind"`
		Options yaml.Node `yaml:"options"`
	}
	if err := n.Decode(&multi); err != nil {
		return err
	}
	if multi.Kind.Kind != yaml.SequenceNode {
		var one Section
		if err := n.Decode(&one); err != nil {
			return err
		}
		*d = Displays{one}
		return nil
	}
	var kinds []string
	if err := multi.Kind.Decode(&kinds); err != nil {
		return err
	}
	byKind := map[string]yaml.Node{}
	if multi.Options.Kind != 0 {
		if err := multi.Options.Decode(&byKind); err != nil {
			return fmt.Errorf("display.options: with a list of kinds, options are keyed by kind (options: {web: {...}, pole: {...}}): %w", err)
		}
	}
	seen := map[string]bool{}
	for _, k := range kinds {
		seen[k] = true
		*d = append(*d, Section{Name: multi.Name, Kind: k, Options: byKind[k]})
	}
	for k := range byKind {
		if !seen[k] {
			return fmt.Errorf("display.options.%s: %s is not one of the kinds %v", k, k, kinds)
		}
	}
	return nil
}

func decodeNode(n yaml.Node, v any) error {
	if n.Kind == 0 {
		return nil // no options: the implementation's defaults
	}
	return decodeStrict(&n, v)
}

// Receipt is what every receipt carries.
type Receipt struct {
	MerchantName string   `yaml:"merchant_name"`
	StoreName    string   `yaml:"store_name"`
	TerminalID   string   `yaml:"terminal_id"`
	Footer       []string `yaml:"footer"`
	LogoFile     string   `yaml:"logo_file"`
	// Copies: "customer", "merchant", "both" (default) or "none" (nothing
	// prints by itself; a reprint still prints the customer's receipt).
	Copies string `yaml:"copies"`
	// OpenDrawer: "succeeded" kicks the cash drawer (on the ESC/POS
	// printer) when a payment succeeds; empty (default) never.
	OpenDrawer string `yaml:"open_drawer"`
}

// Metrics configures /metrics.
type Metrics struct {
	// Open serves /metrics without the token, for a local Prometheus or
	// node exporter's textfile collector; the API listens on loopback only.
	Open bool `yaml:"open"`
}

// Payments are flow settings that do not belong to one gateway.
type Payments struct {
	// AwaitCodeTimeout is how long a payment waits for a scan (default 90s).
	AwaitCodeTimeout time.Duration `yaml:"await_code_timeout"`
	// ScanDedupeWindow: the same code twice within it is one scan (default 2s).
	ScanDedupeWindow time.Duration `yaml:"scan_dedupe_window"`
	// ScanHold: a scan with no payment waiting is kept this long (default 3s).
	ScanHold time.Duration `yaml:"scan_hold"`
}

// Load reads, defaults and validates a config file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.checkInlineSecrets(path, fi.Mode()); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c.Dir = abs
	return c, nil
}

// Parse decodes YAML, refusing unknown fields, then applies defaults and
// validates.
func Parse(b []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && (len(root.Content) == 0 || root.Content[0].Kind == yaml.ScalarNode && root.Content[0].Value == "")) {
		return nil, errors.New("the file is empty: it needs at least a gateways: section (configs/posagent.example.yaml documents every setting)")
	}
	if root.Kind == yaml.DocumentNode && root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the file must be a set of settings (key: value), not a single value or a list", root.Content[0].Line)
	}
	var c Config
	if err := decodeStrict(&root, &c); err != nil {
		return nil, err
	}
	if err := c.resolveCredentials(); err != nil {
		return nil, err
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// ApplyDefaults fills unset fields.
func (c *Config) ApplyDefaults() {
	if c.StateDir == "" {
		c.StateDir = "/var/lib/posagent"
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.TokenFile == "" {
		c.TokenFile = filepath.Join(c.StateDir, "api.token")
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	if c.Receipt.Copies == "" {
		c.Receipt.Copies = "both"
	}
	if c.Payments.AwaitCodeTimeout == 0 {
		c.Payments.AwaitCodeTimeout = 90 * time.Second
	}
	if c.Payments.ScanDedupeWindow == 0 {
		c.Payments.ScanDedupeWindow = 2 * time.Second
	}
	if c.Payments.ScanHold == 0 {
		c.Payments.ScanHold = 3 * time.Second
	}
	if len(c.Gateways) == 1 {
		c.Gateways[0].Default = true
	}
	c.applyAPIDefaults()
	if c.Journal.Retention == 0 {
		c.Journal.Retention = Days(DefaultRetention)
	}
}

// Validate reports every problem at once, each naming its field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		bad("listen", "%q is not host:port", c.Listen)
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		bad("listen", "%q is not a loopback address; the local API must not be reachable from the network", c.Listen)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log_format", "%q is not text or json", c.LogFormat)
	}
	if len(c.Gateways) == 0 {
		bad("gateways", "at least one gateway is required")
	}
	names := map[string]bool{}
	defaults := 0
	for i, g := range c.Gateways {
		f := fmt.Sprintf("gateways[%d]", i)
		if g.Name == "" {
			bad(f+".name", "required")
		} else if names[g.Name] {
			bad(f+".name", "duplicate name %q", g.Name)
		}
		names[g.Name] = true
		if g.Kind == "" {
			bad(f+".kind", "required")
		}
		if g.Default {
			defaults++
		}
	}
	if len(c.Gateways) > 1 && defaults != 1 {
		bad("gateways", "exactly one gateway must be marked default: true (found %d)", defaults)
	}
	snames := map[string]bool{}
	for i, s := range c.Scanners {
		f := fmt.Sprintf("scanners[%d]", i)
		if s.Kind == "" {
			bad(f+".kind", "required (serial, hid, evdev)")
		}
		if s.Name == "" {
			c.Scanners[i].Name = fmt.Sprintf("scanner%d", i+1)
		} else if snames[s.Name] {
			bad(f+".name", "duplicate name %q", s.Name)
		}
		snames[c.Scanners[i].Name] = true
	}
	if c.Printer != nil && c.Printer.Kind == "" {
		bad("printer.kind", "required (escpos, virtual or text)")
	}
	for i, d := range c.Display {
		if d.Kind == "" {
			f := "display.kind"
			if len(c.Display) > 1 {
				f = fmt.Sprintf("display[%d].kind", i)
			}
			bad(f, "required (terminal, web, pole, both or none)")
		}
	}
	switch c.Receipt.Copies {
	case "customer", "merchant", "both", "none":
	default:
		bad("receipt.copies", "%q is not one of customer, merchant, both, none", c.Receipt.Copies)
	}
	if c.Payments.AwaitCodeTimeout < 5*time.Second {
		bad("payments.await_code_timeout", "%v is too short (minimum 5s)", c.Payments.AwaitCodeTimeout)
	}
	if c.Payments.ScanDedupeWindow < 0 || c.Payments.ScanHold < 0 {
		bad("payments", "durations must not be negative")
	}
	if c.Receipt.OpenDrawer != "" && c.Receipt.OpenDrawer != "succeeded" {
		bad("receipt.open_drawer", "%q is not succeeded (or empty)", c.Receipt.OpenDrawer)
	}
	c.validateAPI(bad)
	c.validateOutbox(bad)
	c.validateJournal(bad)
	c.validateReconcile(bad)
	if len(errs) > 0 {
		return fmt.Errorf("invalid config:\n  %w", joinLines(errs))
	}
	return nil
}

func joinLines(errs []error) error {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return errors.New(strings.Join(s, "\n  "))
}

// Resolve makes a path from a section absolute against the config's
// directory.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}
