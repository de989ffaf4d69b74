package hipopay_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/hipopay"
	"github.com/posagent/posagent/gateways/hipopay/hipopaysim"
	"github.com/posagent/posagent/gateways/sim"
)

func copyKey(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	b, err := os.ReadFile(keySet.MerchantKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewValidatesOptions(t *testing.T) {
	dir := t.TempDir()
	worldReadable := copyKey(t, dir, "world.pem", 0o644)
	groupReadable := copyKey(t, dir, "group.pem", 0o640)
	ownerOnly := copyKey(t, dir, "owner.pem", 0o400)
	base := clientOptions(keySet, hipopay.SandboxEndpoint)
	base.Simulated = false
	base.PollInterval, base.CallTimeout = 0, 0
	cases := []struct {
		name   string
		mutate func(*hipopay.Options)
		want   string // "" for valid
	}{
		{"valid", func(*hipopay.Options) {}, ""},
		{"key 0400", func(o *hipopay.Options) { o.MerchantKeyFile = ownerOnly }, ""},
		{"key readable by others", func(o *hipopay.Options) { o.MerchantKeyFile = worldReadable }, worldReadable + " has mode 0644"},
		{"key readable by group", func(o *hipopay.Options) { o.MerchantKeyFile = groupReadable }, groupReadable + " has mode 0640"},
		{"missing key file", func(o *hipopay.Options) { o.MerchantKeyFile = filepath.Join(dir, "none.pem") }, "merchant_key_file"},
		{"no key file", func(o *hipopay.Options) { o.MerchantKeyFile = "" }, "merchant_key_file is required"},
		{"platform key is a private key", func(o *hipopay.Options) { o.PlatformKeyFile = keySet.PlatformKeyFile }, "platform_key_file"},
		{"no platform key", func(o *hipopay.Options) { o.PlatformKeyFile = "" }, "platform_key_file is required"},
		{"no endpoint", func(o *hipopay.Options) { o.Endpoint = "" }, "endpoint is required"},
		{"plain http", func(o *hipopay.Options) { o.Endpoint = "http://testapi.hipopay.com" }, "must be https"},
		{"plain http on loopback", func(o *hipopay.Options) { o.Endpoint = "http://127.0.0.1:8080" }, ""},
		{"plain http on localhost", func(o *hipopay.Options) { o.Endpoint = "http://localhost:8080/api" }, ""},
		{"plain http simulated", func(o *hipopay.Options) { o.Endpoint = "http://sim.lan:8080"; o.Simulated = true }, ""},
		{"endpoint with a query", func(o *hipopay.Options) { o.Endpoint = "https://x.example/?a=1" }, "without query"},
		{"not a URL", func(o *hipopay.Options) { o.Endpoint = "testapi.hipopay.com" }, "not an http(s) URL"},
		{"no merchant", func(o *hipopay.Options) { o.MerchantNO = "" }, "merchant_no is required"},
		{"merchant too long", func(o *hipopay.Options) { o.MerchantNO = strings.Repeat("1", 33) }, "merchant_no"},
		{"merchant with a space", func(o *hipopay.Options) { o.MerchantNO = "HP 1" }, "merchant_no"},
		{"bad version", func(o *hipopay.Options) { o.Version = "v1" }, "version"},
		{"bad bill version", func(o *hipopay.Options) { o.BillVersion = "three" }, "bill_version"},
		{"poll under the floor", func(o *hipopay.Options) { o.PollInterval = time.Second }, "poll_interval 1s is under the floor 5s"},
		{"call timeout under the floor", func(o *hipopay.Options) { o.CallTimeout = time.Second }, "call_timeout"},
		{"simulated lifts the floors", func(o *hipopay.Options) {
			o.Simulated = true
			o.PollInterval, o.CallTimeout = time.Millisecond, time.Millisecond
		}, ""},
		{"negative duration", func(o *hipopay.Options) { o.RetryBackoff = -time.Second }, "negative"},
		{"clock skew under the floor", func(o *hipopay.Options) { o.MaxClockSkew = time.Second }, "max_clock_skew"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base
			c.mutate(&o)
			cl, err := hipopay.New(o, gateways.Env{})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.name == "valid" {
					if tm := cl.Timing(); tm.PollInterval != 5*time.Second || tm.MinPollInterval != 5*time.Second || tm.CallTimeout != 15*time.Second {
						t.Errorf("Timing = %+v, want the documented defaults", tm)
					}
				}
				return
			}
			if !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want Invalid containing %q", err, c.want)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	dir := t.TempDir()
	copyKey(t, dir, "merchant.pem", 0o600)
	if err := os.Symlink(keySet.PlatformPublicKeyFile, filepath.Join(dir, "platform.pem")); err != nil {
		t.Fatal(err)
	}
	conf := `
endpoint: https://testapi.hipopay.com/
merchant_no: WC8888888888888
merchant_key_file: merchant.pem
platform_key_file: platform.pem
poll_interval: 7s
max_clock_skew: 2m
`
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(conf), &node); err != nil {
		t.Fatal(err)
	}
	gw, err := gateways.New("hipopay", func(v any) error { return node.Decode(v) }, gateways.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	caps := gw.Capabilities()
	if gw.Kind() != "hipopay" || gw.Timing().PollInterval != 7*time.Second || len(caps.Micropay) != 0 || len(caps.MerchantQR) != 0 ||
		!caps.Refund || !caps.PartialRefund || !caps.Notify || !caps.Bill || caps.Reverse || caps.Close || !caps.Accepts("JPY") {
		t.Errorf("registered gateway = %s %+v %+v", gw.Kind(), caps, gw.Timing())
	}
	if _, ok := gw.(gateways.Micropayer); ok {
		t.Error("hipopay implements Micropayer")
	}
	if _, ok := gw.(gateways.QRCreator); ok {
		t.Error("hipopay implements QRCreator")
	}
	var bad yaml.Node
	_ = yaml.Unmarshal([]byte("poll_interval: soon\n"), &bad)
	if _, err := gateways.New("hipopay", func(v any) error { return bad.Decode(v) }, gateways.Env{Dir: dir}); !pos.Match(pos.Invalid, err) {
		t.Errorf("undecodable options: %v", err)
	}
}

// An old signed answer is not trusted: answers echo no request id, so
// when an answer carries a Signature (the spec does not sign answers; a
// present one is checked), the Timestamp's age is what stops a replay.
func TestStaleAnswerIsUnknown(t *testing.T) {
	key, err := hipopay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"is_success":true,"response":{"status":"PAID","payment_no":"P1","out_trade_id":"PA1","amount":"1.00","currency":"HKD"}}`
	at := time.Now()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := hipopay.AnswerParams([]byte(body))
		stamp := hipopay.Timestamp(at)
		sig, _ := hipopay.Sign(key, p.SigningString(stamp))
		w.Header().Set(hipopay.HeaderTimestamp, stamp)
		w.Header().Set(hipopay.HeaderSignature, sig)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	c, err := hipopay.New(clientOptions(keySet, ts.URL), gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ref := gateways.OrderRef{OutTradeNo: "PA1", TransactionID: "P1"}
	if res, err := c.Query(t.Context(), ref); err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Query = %+v, %v", res, err)
	}
	at = time.Now().Add(-time.Hour)
	res, err := c.Query(t.Context(), ref)
	if !pos.Match(pos.Unknown, err) || !strings.Contains(err.Error(), "Timestamp") {
		t.Fatalf("Query answered an hour ago = %+v, %v; want Unknown naming the Timestamp", res, err)
	}
}

// The simulator refuses what the platform would: a wrong signature,
// another merchant, a stale Timestamp, the wrong Version; the adapter
// reads each refusal as no trustworthy answer, never as a result.
func TestSimulatorRefusesBadRequests(t *testing.T) {
	so := hipopaysim.Options{}
	if err := keySet.Load(&so); err != nil {
		t.Fatal(err)
	}
	srv, err := hipopaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	o, err := srv.Seed(hipopaysim.SeedOrder{OutTradeNo: "PA1", Amount: hkd(100)})
	if err != nil {
		t.Fatal(err)
	}
	ref := gateways.OrderRef{OutTradeNo: "PA1", TransactionID: o.TransactionID}
	other, err := os.MkdirTemp("", "hipopay-other-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	otherKeys, err := hipopaysim.GenerateKeySet(other)
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*hipopay.Options){
		"wrong merchant key": func(o *hipopay.Options) { o.MerchantKeyFile = otherKeys.MerchantKeyFile },
		"wrong merchant":     func(o *hipopay.Options) { o.MerchantNO = "HP999" },
		"wrong version":      func(o *hipopay.Options) { o.Version = "2.0" },
	} {
		t.Run(name, func(t *testing.T) {
			opts := clientOptions(keySet, ts.URL)
			mutate(&opts)
			c, err := hipopay.New(opts, gateways.Env{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Query(t.Context(), ref)
			if err != nil || res.Status != gateways.StatusUnknown || res.Code != hipopay.ErrIllegalSecurity {
				t.Errorf("Query = %+v, %v; want an Unknown result with %s", res, err, hipopay.ErrIllegalSecurity)
			}
			res, err = c.Refund(t.Context(), gateways.RefundRequest{Order: ref, OutRefundNo: "RF-" + strings.ReplaceAll(name, " ", ""), Amount: hkd(10)})
			if err != nil || res.Status != gateways.StatusFailed {
				t.Errorf("Refund = %+v, %v; want Failed (refused as a whole)", res, err)
			}
			if got, _ := srv.Ledger().Get("PA1"); got.RefundedAmount() != 0 {
				t.Errorf("a refused refund was made: %d", got.RefundedAmount())
			}
		})
	}
	// The simulator signs no answer (the spec signs none): a client that
	// requires signed answers trusts none of them.
	t.Run("require_signed_answers against unsigned answers", func(t *testing.T) {
		opts := clientOptions(keySet, ts.URL)
		opts.RequireSignedAnswers = true
		c, err := hipopay.New(opts, gateways.Env{})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := c.Query(t.Context(), ref); !pos.Match(pos.Unknown, err) {
			t.Errorf("Query = %+v, %v; want a pos.Unknown error", res, err)
		}
	})
	t.Run("stale request", func(t *testing.T) {
		srv.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
		t.Cleanup(func() { srv.SetClock(time.Now) })
		opts := clientOptions(keySet, ts.URL)
		opts.MaxClockSkew = 2 * time.Hour // the adapter tolerates the answer's clock
		c, err := hipopay.New(opts, gateways.Env{})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := c.Query(t.Context(), ref); err != nil || res.Code != hipopay.ErrIllegalSecurity {
			t.Errorf("Query = %+v, %v", res, err)
		}
	})
}

// Concurrent refunds never sum above the original.
func TestConcurrentRefundsNeverExceedTheOriginal(t *testing.T) {
	p := newPair(t, "")
	ref := seed(t, p, 100, sim.Behaviour{})
	results := make(chan gateways.Result, 8)
	for range 8 {
		go func() {
			res, err := p.client.Refund(ctxFor(t, callTimeout), gateways.RefundRequest{Order: ref, OutRefundNo: gatewaytest.NewOutTradeNo(), Amount: hkd(30)})
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	ok := 0
	for range 8 {
		if r := <-results; r.Status == gateways.StatusSucceeded {
			ok++
		}
	}
	got, _ := p.ctl.srv.Ledger().Get(ref.OutTradeNo)
	if ok != 3 || got.RefundedAmount() != 90 {
		t.Errorf("%d refunds of 30 succeeded, ledger refunded %d; want 3 and 90", ok, got.RefundedAmount())
	}
}
