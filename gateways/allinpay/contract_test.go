package allinpay_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows/truthtest"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/gateways/allinpay/allinpaysim"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
)

// keySet is generated once per test binary: RSA key generation is the
// slow part of building a pair.
var keySet allinpaysim.KeySet

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "allinpay-keys-")
	if err != nil {
		panic(err)
	}
	keySet, err = allinpaysim.GenerateKeySet(dir)
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// controller is the contract suite's handle on one simulator.
type controller struct {
	srv       *allinpaysim.Server
	ts        *httptest.Server
	transport *http.Transport
}

func (c *controller) Script(outTradeNo string, b sim.Behaviour) {
	c.srv.Script().SetOrder(outTradeNo, b)
}

func (c *controller) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	return c.srv.Notification(outTradeNo, f)
}

// The truth check's handle: the simulator's own documented answers.
var _ gatewaytest.Truther = (*controller)(nil)

func (c *controller) Answers(op sim.Op, method string) []sim.DocumentedAnswer {
	return c.srv.Answers(op, method)
}

func (c *controller) ScriptAnswer(outTradeNo string, op sim.Op, a sim.Answer) {
	c.srv.ScriptAnswer(outTradeNo, op, a)
}

func (c *controller) Order(outTradeNo string) (sim.Order, bool) { return c.srv.Order(outTradeNo) }

func (c *controller) Stop() {
	c.ts.Close()
	c.transport.CloseIdleConnections()
}

// pair is a client and simulator over real loopback HTTP with fast
// timings: queries every 50 ms, which the simulator enforces (40 ms).
// Every other pair's simulator answers in JSON, the spec's other
// key-value form, so the suite runs over both.
type pair struct {
	client *allinpay.Client
	ctl    *controller
}

var pairs atomic.Int64

func newPair(t *testing.T, notifyURL string) pair {
	t.Helper()
	return newPairIn(t, notifyURL, allinpaysim.DefaultCurrency)
}

// newPairIn is newPair for a merchant of another currency.
func newPairIn(t *testing.T, notifyURL, currency string) pair {
	t.Helper()
	so := allinpaysim.Options{Currency: currency, NotifyURL: notifyURL, MinQueryInterval: 40 * time.Millisecond, Hold: 5 * time.Second,
		WalletTimeout: 1500 * time.Millisecond, Minute: time.Second, JSON: pairs.Add(1)%2 == 0}
	if err := keySet.Load(&so); err != nil {
		t.Fatal(err)
	}
	srv, err := allinpaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	if notifyURL == "" {
		notifyURL = "http://127.0.0.1:9/allinpay/notify" // mandatory on the wire; nobody listens
	}
	o := clientOptions(ts.URL+"/gateway/pay/consumeTrans", notifyURL)
	o.Currency = currency
	o.PollInterval = 50 * time.Millisecond
	o.CallTimeout = 10 * time.Second
	tr := &http.Transport{}
	c, err := allinpay.New(o, gateways.Env{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	return pair{client: c, ctl: &controller{srv: srv, ts: ts, transport: tr}}
}

func TestContract(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
			p := newPair(t, cfg.NotifyURL)
			return p.client, p.ctl
		},
		Currency: "HKD",
	})
}

// clientOptions are adapter options for talking to a simulator at
// endpoint with the test key set: the simulator's default merchant, plain
// http allowed (Simulated) and fast timings.
func clientOptions(endpoint, notifyURL string) allinpay.Options {
	return allinpay.Options{
		Endpoint:        endpoint,
		AccessCode:      allinpaysim.DefaultAccessCode,
		MchNo:           allinpaysim.DefaultMchNo,
		Currency:        allinpaysim.DefaultCurrency,
		MerchantKeyFile: keySet.MerchantKeyFile,
		PlatformKeyFile: keySet.PlatformPublicKeyFile,
		NotifyURL:       notifyURL,
		PollInterval:    time.Second,
		PayTimeout:      30 * time.Second,
		QRTimeout:       2 * time.Minute,
		CallTimeout:     5 * time.Second,
		RetryBackoff:    time.Second,
		RetryBackoffMax: 10 * time.Second,
		Simulated:       true,
	}
}

// A Singapore merchant: the suite again in SGD, which takes PayNow QR
// (its code valid 3 minutes, never closed: polled until it expires).
func TestContractSGD(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
			p := newPairIn(t, cfg.NotifyURL, "SGD")
			if !p.client.Capabilities().Supports(pos.MerchantQR, pos.PayNow) {
				t.Fatal("an SGD merchant does not offer PayNow")
			}
			return p.client, p.ctl
		},
		Currency: "SGD",
	})
}

// The truth check: a real runner against the simulator, every documented
// answer on every call with the truth either way, the till's final state
// checked against the ledger.
func TestTruth(t *testing.T) {
	truthtest.Run(t, truthtest.Harness{Harness: gatewaytest.Harness{
		New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
			p := newPair(t, cfg.NotifyURL)
			return p.client, p.ctl
		},
		Currency: "HKD",
	}})
}
