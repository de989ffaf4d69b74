package allpay_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posagent/posagent/flows/truthtest"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/allpay/allpaysim"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
)

// controller drives one allpaysim behind one httptest server.
type controller struct {
	srv       *allpaysim.Server
	ts        *httptest.Server
	transport *http.Transport
}

func (c controller) Script(no string, b sim.Behaviour) { c.srv.Script().SetOrder(no, b) }

func (c controller) Notification(no string, f sim.Fault) (http.Header, []byte, error) {
	return c.srv.Notification(no, f)
}

// The simulator is the gatewaytest.Truther the truth check drives.
func (c controller) Answers(op sim.Op, method string) []sim.DocumentedAnswer {
	return c.srv.Answers(op, method)
}
func (c controller) ScriptAnswer(no string, op sim.Op, a sim.Answer) { c.srv.ScriptAnswer(no, op, a) }
func (c controller) Order(no string) (sim.Order, bool)               { return c.srv.Order(no) }

func (c controller) Stop() {
	c.ts.Close()
	c.transport.CloseIdleConnections()
}

// newPair builds a client and simulator pair over loopback HTTP with fast
// timings; mutate adjusts the simulator's options first.
func newPair(t *testing.T, backURL string, mutate func(*allpaysim.Options)) (*allpay.Client, controller) {
	t.Helper()
	return newPairWith(t, backURL, mutate, nil)
}

// newPairWith is newPair with the client's options adjusted too.
func newPairWith(t *testing.T, backURL string, mutate func(*allpaysim.Options), client func(*allpay.Options)) (*allpay.Client, controller) {
	t.Helper()
	so := allpaysim.DemoOptions()
	so.Rules = sim.Rules{MinQueryInterval: 15 * time.Millisecond}
	so.NotifySchedule = []time.Duration{0, 100 * time.Millisecond}
	so.Hold = 5 * time.Second
	if mutate != nil {
		mutate(&so)
	}
	srv, err := allpaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	if backURL == "" {
		backURL = "http://127.0.0.1:9/allpay/notify" // mandatory on the wire; nobody listens
	}
	co := clientOptions(so, ts.URL, backURL)
	co.PollInterval = 20 * time.Millisecond
	co.CallTimeout = 5 * time.Second
	if client != nil {
		client(&co)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := allpay.New(co, gateways.Env{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	return c, controller{srv: srv, ts: ts, transport: tr}
}

// clientOptions pairs a client with a simulator built with so: its
// merchant, key and signType, Simulated, and a payable window of 1 ns, so
// INQY 01 reads as it does once the window is over (the suite's declined
// QR order); TestInquiryWindow covers the inside.
func clientOptions(so allpaysim.Options, endpoint, backURL string) allpay.Options {
	so = so.WithDefaults()
	return allpay.Options{Endpoint: endpoint, MerID: so.MerID, AcqID: so.AcqID, Key: so.Key, SignType: so.SignType,
		BackURL: backURL, Currency: allpay.DefaultCurrency, PayableWindow: time.Nanosecond,
		PollInterval: max(500*time.Millisecond, so.Rules.MinQueryInterval), Simulated: true}
}

func TestContract(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
			return newPair(t, cfg.NotifyURL, nil)
		},
		Currency: allpay.DefaultCurrency,
	})
}

// TestTruth: for every answer the simulator's reading of the spec
// documents, on every call, with the truth going either way, a real till
// ends agreeing with the ledger.
func TestTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("the truth check runs a till per cell")
	}
	truthtest.Run(t, truthtest.Harness{
		Harness: gatewaytest.Harness{
			New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
				return newPairWith(t, cfg.NotifyURL, func(so *allpaysim.Options) { so.PayableWindow = 3 * time.Second },
					func(o *allpay.Options) {
						o.PayableWindow, o.QRTimeout, o.PollInterval = 3*time.Second, 2*time.Second, 50*time.Millisecond
						o.RetryBackoff, o.RetryBackoffMax = 100*time.Millisecond, 500*time.Millisecond
					})
			},
			Currency: allpay.DefaultCurrency,
		},
		Bound:    30 * time.Second,
		Parallel: 4,
	})
}
