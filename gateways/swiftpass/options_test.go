package swiftpass

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

func TestNewValidatesOptions(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(exampleKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose")
	if err := os.WriteFile(loose, []byte(exampleKey), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o640); err != nil {
		t.Fatal(err)
	}
	priv, pub := writeKeyFiles(t)
	loosePriv := filepath.Join(dir, "loose.pem")
	b, _ := os.ReadFile(priv)
	if err := os.WriteFile(loosePriv, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loosePriv, 0o644); err != nil {
		t.Fatal(err)
	}
	rsaOpts := func(o *Options) { o.SignType, o.Key, o.PrivateKeyFile, o.PlatformKeyFile = RSA, "", priv, pub }
	cases := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"valid", func(*Options) {}, ""},
		{"default endpoint", func(o *Options) { o.Endpoint = "" }, ""},
		{"key file", func(o *Options) { o.Key, o.KeyFile = "", keyFile }, ""},
		{"relative key file", func(o *Options) { o.Key, o.KeyFile = "", "key" }, ""},
		{"rsa", rsaOpts, ""},
		{"sha256", func(o *Options) { o.SignType = SHA256 }, ""},
		{"loopback http", func(o *Options) { o.Endpoint = "http://127.0.0.1:8080/pay/gateway" }, ""},
		{"key file readable by group", func(o *Options) { o.Key, o.KeyFile = "", loose }, "mode 0640"},
		{"private key readable by others", func(o *Options) { rsaOpts(o); o.PrivateKeyFile = loosePriv }, "mode 0644"},
		{"missing key file", func(o *Options) { o.Key, o.KeyFile = "", filepath.Join(dir, "none") }, "key_file"},
		{"key and key file", func(o *Options) { o.KeyFile = keyFile }, "exactly one of key and key_file"},
		{"no key", func(o *Options) { o.Key = "" }, "exactly one of key and key_file"},
		{"rsa with a key", func(o *Options) { rsaOpts(o); o.Key = "k" }, "key and key_file must not be set"},
		{"rsa without platform key", func(o *Options) { rsaOpts(o); o.PlatformKeyFile = "" }, "platform_key_file"},
		{"rsa platform key is private", func(o *Options) { rsaOpts(o); o.PlatformKeyFile = priv }, "platform_key_file"},
		{"rsa files with md5", func(o *Options) { o.PrivateKeyFile = priv }, "are for sign_type RSA_1_256"},
		{"sign type", func(o *Options) { o.SignType = "HMAC" }, "sign_type \"HMAC\""},
		{"plain http", func(o *Options) { o.Endpoint = "http://gateway.example/pay" }, "must be https"},
		{"not a url", func(o *Options) { o.Endpoint = "gateway" }, "endpoint"},
		{"no mch_id", func(o *Options) { o.MchID = "" }, "mch_id is required"},
		{"long mch_id", func(o *Options) { o.MchID = strings.Repeat("1", 33) }, "mch_id is 33 bytes"},
		{"no notify url", func(o *Options) { o.NotifyURL = "" }, "notify_url is required"},
		{"relative notify url", func(o *Options) { o.NotifyURL = "/notify" }, "notify_url"},
		{"long notify url", func(o *Options) { o.NotifyURL = "https://t.example/" + strings.Repeat("n", 250) }, "notify_url is 268 bytes"},
		{"create ip", func(o *Options) { o.CreateIP = "till" }, "create_ip"},
		{"currency", func(o *Options) { o.Currency = "XYZ" }, "currency"},
		{"poll faster than the spec", func(o *Options) { o.PollInterval = time.Second }, "poll_interval 1s is below the spec's 5s"},
		{"close sooner than the spec", func(o *Options) { o.CloseAfter = time.Minute }, "close_after 1m0s is below the spec's 5m0s"},
		{"qr timeout too short", func(o *Options) { o.QRTimeout = 30 * time.Second }, "qr_timeout"},
		{"qr timeout too long", func(o *Options) { o.QRTimeout = 3 * time.Hour }, "qr_timeout"},
		{"negative", func(o *Options) { o.CallTimeout = -1 }, "call_timeout must not be negative"},
		{"simulated may be fast", func(o *Options) {
			o.Simulated, o.Endpoint, o.PollInterval, o.CloseAfter, o.QRTimeout = true, "http://sim.example/", 100*time.Millisecond, time.Second, 10*time.Second
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := testOptions()
			c.mutate(&o)
			cl, err := New(o, gateways.Env{Dir: dir})
			if c.want != "" {
				if !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("New = %v, want Invalid containing %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tm := cl.Timing()
			if o.Simulated {
				if tm.PollInterval != 100*time.Millisecond || tm.CloseAfter != time.Second || tm.MinPollInterval != 100*time.Millisecond {
					t.Errorf("Timing = %+v", tm)
				}
				return
			}
			want := gateways.Timing{PollInterval: 5 * time.Second, MinPollInterval: 5 * time.Second, PayTimeout: time.Minute,
				QRTimeout: 5 * time.Minute, CloseAfter: 5*time.Minute + 15*time.Second, CallTimeout: 10 * time.Second}.WithDefaults()
			if tm != want {
				t.Errorf("Timing = %+v, want the spec's %+v", tm, want)
			}
			if len(cl.Capabilities().Micropay) != 0 {
				t.Error("this spec has no micropay")
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	const cfg = `
mch_id: "7551000001"
sign_type: SHA256
key: 9f72151b6592fab3e0c63a1ab3c0877b
notify_url: https://till.example/notify/swiftpass
currency: HKD
poll_interval: 10s
`
	g, err := gateways.New(Kind, func(v any) error { return yaml.Unmarshal([]byte(cfg), v) }, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Kind() != Kind || g.Timing().PollInterval != 10*time.Second {
		t.Fatalf("gateway %s timing %+v", g.Kind(), g.Timing())
	}
	if _, err := gateways.New(Kind, func(v any) error { return yaml.Unmarshal([]byte("mch_id: [1]"), v) }, gateways.Env{}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("bad yaml = %v, want Invalid", err)
	}
}
