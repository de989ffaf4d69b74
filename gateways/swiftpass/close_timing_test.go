package swiftpass_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/gateways/swiftpass"
	"github.com/posagent/posagent/gateways/swiftpass/swiftpasssim"
	"github.com/posagent/posagent/store/sqlite"
)

// TestFirstCloseAfterTheAnswer (S6): a cancelled QR order's first close
// comes no sooner than CloseAfter after the create's answer, with no margin
// the simulator pairing adds and a real endpoint would not get. The create
// is received 300 ms after the till sent it, so a close timed from before
// the call would reach the platform 300 ms too early and be refused.
func TestFirstCloseAfterTheAnswer(t *testing.T) {
	so := swiftpasssim.DemoOptions() // closes accepted 1 s after creation
	srv, err := swiftpasssim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	slowCreate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(swiftpass.ServiceWeChatQR)) {
			time.Sleep(300 * time.Millisecond) // the request is slow to arrive
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		srv.ServeHTTP(w, r)
	})
	ts := httptest.NewServer(slowCreate)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	co := simClientOptions(so, ts.URL, "http://127.0.0.1:9/notify")
	co.PollInterval = 50 * time.Millisecond
	if co.CloseAfter != srv.Options().CloseAfter {
		t.Fatalf("the pairing's CloseAfter %s is not the simulator's %s: a simulator-only margin", co.CloseAfter, srv.Options().CloseAfter)
	}
	gw, err := swiftpass.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	runner, err := flows.NewRunner(flows.Options{Journal: db, Gateways: map[string]gateways.Gateway{"swiftpass": gw}, CodeKey: key, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// ..92: the customer never pays; the cashier cancels at once.
	p, err := runner.Start(ctx, flows.StartRequest{Amount: pos.Money{Minor: 192, Currency: "HKD"}, Method: pos.MerchantQR,
		Wallet: pos.WeChatPay, Gateway: "swiftpass"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Cancel(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !p.State.Final() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if p, err = runner.Get(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	o, _ := srv.Order(p.OutTradeNo)
	if o.State != sim.Closed || o.Charged() {
		t.Fatalf("payment %s, order %+v: want the order closed", p.State, o)
	}
	if n := srv.EarlyCloses(); n != 0 {
		t.Fatalf("%d close(s) refused as sooner than 5 minutes' stand-in after the order: the first close is timed from before the create's answer", n)
	}
	if !strings.Contains(string(p.State), "reversed") && p.State != pos.StateFailed {
		t.Errorf("payment ended %s", p.State)
	}
}
