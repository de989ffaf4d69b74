package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/configs"
)

func TestExampleConfigIsValid(t *testing.T) {
	c, err := configs.Load("posagent.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Gateways) != 1 || c.Gateways[0].Kind != "mmsp" || !c.Gateways[0].Default {
		t.Fatalf("gateways: %+v", c.Gateways)
	}
	var opts struct {
		Endpoint   string `yaml:"endpoint"`
		MerchantNo string `yaml:"merchant_no"`
		TerminalNo string `yaml:"terminal_no"`
		KeyFile    string `yaml:"key_file"`
		NotifyURL  string `yaml:"notify_url"`
		// MMSP's slash rule is spelled out with why (issue 8).
		SignSlashes string `yaml:"sign_slashes"`
	}
	if err := c.Gateways[0].Decode(&opts); err != nil {
		t.Fatal(err)
	}
	if opts.MerchantNo != "001440353999853" {
		t.Fatalf("merchant_no decoded as %q", opts.MerchantNo)
	}
	if opts.SignSlashes != "escaped" {
		t.Fatalf("sign_slashes = %q, want the §3.3.2.1 default spelled out", opts.SignSlashes)
	}
	if c.Payments.AwaitCodeTimeout != 90*time.Second || c.Scanners[0].Name != "front" {
		t.Fatalf("payments/scanners: %+v %+v", c.Payments, c.Scanners)
	}
}

func TestDefaults(t *testing.T) {
	c, err := configs.Parse([]byte("gateways: [{name: g, kind: mmsp}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != configs.DefaultListen || c.StateDir != "/var/lib/posagent" || c.TokenFile != "/var/lib/posagent/api.token" {
		t.Fatalf("defaults: %+v", c)
	}
	if !c.Gateways[0].Default {
		t.Fatal("a lone gateway should be the default")
	}
	if c.Payments.ScanHold != 3*time.Second || c.Payments.ScanDedupeWindow != 2*time.Second || c.Receipt.Copies != "both" {
		t.Fatalf("payment defaults: %+v", c.Payments)
	}
}

func TestInvalidConfigsNameTheField(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"gateways: []", "gateways: at least one gateway"},
		{"listen: 0.0.0.0:8417\ngateways: [{name: g, kind: mmsp}]", "listen"},
		{"gateways: [{name: g}]", "gateways[0].kind: required"},
		{"gateways: [{name: g, kind: mmsp}, {name: g, kind: mmsp}]", "duplicate name"},
		{"gateways: [{name: a, kind: mmsp}, {name: b, kind: mmsp}]", "exactly one gateway must be marked default"},
		{"log_level: loud\ngateways: [{name: g, kind: mmsp}]", "log_level"},
		{"gateways: [{name: g, kind: mmsp}]\nreceipt: {copies: three}", "receipt.copies"},
		{"gateways: [{name: g, kind: mmsp}]\npayments: {await_code_timeout: 1s}", "await_code_timeout"},
		{"gateways: [{name: g, kind: mmsp}]\nscanners: [{name: s}]", "scanners[0].kind"},
		{"gateway: [{name: g, kind: mmsp}]", "unknown setting \"gateway\""},
	}
	for _, tt := range tests {
		_, err := configs.Parse([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one mentioning %q", tt.yaml, err, tt.want)
		}
	}
}

func TestSectionDecodeRefusesUnknownFields(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("gateways: [{name: g, kind: mmsp, options: {endpoint: x, typo: 1}}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Endpoint string `yaml:"endpoint"`
	}
	if err := c.Gateways[0].Decode(&o); err == nil || !strings.Contains(err.Error(), "typo") {
		t.Fatalf("Decode error = %v, want one naming the unknown field", err)
	}
	if c.Dir != dir || c.Resolve("k.pem") != filepath.Join(dir, "k.pem") {
		t.Fatalf("Dir %q Resolve %q", c.Dir, c.Resolve("k.pem"))
	}
}
