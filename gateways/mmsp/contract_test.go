package mmsp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/mmsp/mmspsim"
	"github.com/posagent/posagent/gateways/sim"
)

// controller drives one mmspsim behind one httptest server.
type controller struct {
	srv       *mmspsim.Server
	ts        *httptest.Server
	transport *http.Transport
}

func (c controller) Script(no string, b sim.Behaviour) { c.srv.Script().SetOrder(no, b) }

func (c controller) Notification(no string, f sim.Fault) (http.Header, []byte, error) {
	return c.srv.Notification(no, f)
}

func (c controller) Stop() {
	c.ts.Close()
	c.transport.CloseIdleConnections()
}

// newPair builds a client and simulator pair with fast timings.
func newPair(t *testing.T, notifyURL string) (*mmsp.Client, controller) {
	t.Helper()
	so := mmspsim.DemoOptions()
	so.Rules = sim.Rules{ReverseAfter: 150 * time.Millisecond}
	so.NotifySchedule = []time.Duration{0, 100 * time.Millisecond}
	srv, err := mmspsim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	if notifyURL == "" {
		notifyURL = "http://127.0.0.1:9/mmsp/notify" // nobody listens; deliveries fail harmlessly
	}
	co := mmspsim.ClientOptions(so, ts.URL, notifyURL)
	co.Timing.PollInterval = 20 * time.Millisecond
	co.CallTimeout = 5 * time.Second
	co.RefundSettle = time.Millisecond // 受理成功 is final at the first 2313
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := mmsp.New(co, gateways.Env{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	return c, controller{srv: srv, ts: ts, transport: tr}
}

func TestContract(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
			return newPair(t, cfg.NotifyURL)
		},
	})
}
