package allpay_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allpay"
)

func TestNewValidatesOptions(t *testing.T) {
	dir := t.TempDir()
	private := filepath.Join(dir, "key")
	loose := filepath.Join(dir, "loose")
	for path, mode := range map[string]os.FileMode{private: 0o600, loose: 0o640} {
		if err := os.WriteFile(path, []byte("2f2c77e3718c47cfb47a89a6fbc9d361\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	base := allpay.Options{Endpoint: allpay.TestEndpoint, MerID: "000000000000015", KeyFile: "key", BackURL: "https://till.example/notify"}
	cases := []struct {
		name   string
		mutate func(*allpay.Options)
		want   string
	}{
		{"valid with defaults", func(*allpay.Options) {}, ""},
		{"loopback http", func(o *allpay.Options) { o.Endpoint = "http://127.0.0.1:8080" }, ""},
		{"key inline", func(o *allpay.Options) { o.KeyFile, o.Key = "", "secret" }, ""},
		{"key file readable by group", func(o *allpay.Options) { o.KeyFile = loose }, "mode 0640"},
		{"key and key file", func(o *allpay.Options) { o.Key = "secret" }, "not both"},
		{"no key", func(o *allpay.Options) { o.KeyFile = "" }, "key or key_file is required"},
		{"missing key file", func(o *allpay.Options) { o.KeyFile = "none" }, "key_file"},
		{"no endpoint", func(o *allpay.Options) { o.Endpoint = "" }, "endpoint is required"},
		{"plain http", func(o *allpay.Options) { o.Endpoint = "http://api.allpayx.com" }, "must be https"},
		{"no merchant", func(o *allpay.Options) { o.MerID = "" }, "mer_id is required"},
		{"merchant too long", func(o *allpay.Options) { o.MerID = strings.Repeat("1", 16) }, "mer_id"},
		{"acq id too long", func(o *allpay.Options) { o.AcqID = strings.Repeat("1", 12) }, "acq_id"},
		{"no back url", func(o *allpay.Options) { o.BackURL = "" }, "back_url is required"},
		{"relative back url", func(o *allpay.Options) { o.BackURL = "/notify" }, "back_url"},
		{"sign type", func(o *allpay.Options) { o.SignType = "RSA" }, "sign_type"},
		{"currency", func(o *allpay.Options) { o.Currency = "XYZ" }, "currency"},
		{"alipay schema", func(o *allpay.Options) { o.AlipaySchema = "UP" }, "alipay_schema"},
		{"poll under the floor", func(o *allpay.Options) { o.PollInterval = time.Second }, "poll_interval"},
		{"negative duration", func(o *allpay.Options) { o.QRTimeout = -time.Second }, "negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base
			c.mutate(&o)
			cl, err := allpay.New(o, gateways.Env{Dir: dir})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				tm := cl.Timing()
				if tm.PollInterval != allpay.MinPollInterval || tm.QRTimeout != allpay.DefaultQRTimeout || tm.CallTimeout != allpay.DefaultCallTimeout {
					t.Errorf("Timing = %+v, want the documented defaults", tm)
				}
				if caps := cl.Capabilities(); !caps.Accepts(allpay.DefaultCurrency) || caps.Close || caps.Reverse {
					t.Errorf("Capabilities = %+v", caps)
				}
				return
			}
			if !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want Invalid containing %q", err, c.want)
			}
		})
	}
	// Simulated lifts the https rule and the poll floor.
	o := base
	o.Endpoint, o.PollInterval, o.Simulated = "http://sim.example", 100*time.Millisecond, true
	if _, err := allpay.New(o, gateways.Env{Dir: dir}); err != nil {
		t.Errorf("simulated: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "allpay.key"), []byte("k3y"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := `
endpoint: https://api.allpayx.com
mer_id: "000000000000015"
key_file: allpay.key
sign_type: MD5
back_url: https://till.example/notify/allpay
currency: HKD
alipay_schema: APHK
poll_interval: 7s
`
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(conf), &node); err != nil {
		t.Fatal(err)
	}
	gw, err := gateways.New(allpay.Kind, func(v any) error { return node.Decode(v) }, gateways.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := gw.(*allpay.Client)
	if s, _ := c.Schema(pos.Alipay); s != "APHK" || !gw.Capabilities().Accepts("HKD") || gw.Timing().PollInterval != 7*time.Second {
		t.Errorf("registered gateway: schema %s %+v %+v", s, gw.Capabilities(), gw.Timing())
	}
}
