package swiftpasssim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/swiftpass"
)

func newServer(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

func post(t *testing.T, url string, body []byte) swiftpass.Fields {
	t.Helper()
	resp, err := http.Post(url, "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	f, err := swiftpass.ParseXML(b)
	if err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return f
}

func signed(t *testing.T, key string, f swiftpass.Fields) []byte {
	t.Helper()
	f[swiftpass.SignField] = swiftpass.SignMD5(f, key)
	return f.Marshal()
}

func query(no string) swiftpass.Fields {
	return swiftpass.Fields{"service": swiftpass.ServiceQuery, "mch_id": TestMchID, "nonce_str": "n", "out_trade_no": no}
}

// TestProtocolErrors: what the platform refuses before any business logic
// is answered with a status other than 0, unsigned.
func TestProtocolErrors(t *testing.T) {
	_, ts := newServer(t, DemoOptions())
	key := TestKey.Reveal()
	cases := map[string][]byte{
		"not XML":         []byte("{}"),
		"bad signature":   signed(t, "wrong", query("PA1")),
		"missing field":   signed(t, key, swiftpass.Fields{"service": swiftpass.ServiceQuery, "mch_id": TestMchID, "out_trade_no": "PA1"}),
		"unknown service": signed(t, key, swiftpass.Fields{"service": "pay.weixin.micropay", "mch_id": TestMchID, "nonce_str": "n"}),
		"other merchant":  signed(t, key, swiftpass.Fields{"service": swiftpass.ServiceQuery, "mch_id": "1", "nonce_str": "n", "out_trade_no": "PA1"}),
		"sign_type":       signed(t, key, swiftpass.Fields{"service": swiftpass.ServiceQuery, "mch_id": TestMchID, "nonce_str": "n", "out_trade_no": "PA1", "sign_type": "SHA256"}),
	}
	for name, body := range cases {
		f := post(t, ts.URL, body)
		if f["status"] == "0" || f["message"] == "" || f["sign"] != "" {
			t.Errorf("%s: answer %v, want an unsigned protocol error", name, f)
		}
	}
	f := post(t, ts.URL, signed(t, key, query("PA1")))
	if f["status"] != "0" || f["err_code"] != "Order not exists" || f["sign"] == "" {
		t.Errorf("unknown order: %v", f)
	}
}

// newClient is an adapter pointed at ts.
func newClient(t *testing.T, o Options, ts *httptest.Server, notifyURL string) *swiftpass.Client {
	t.Helper()
	co := ClientOptions(o, ts.URL, notifyURL)
	co.PollInterval = 10 * time.Millisecond
	c, err := swiftpass.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCloseTooEarly(t *testing.T) {
	o := Options{LedgerPath: filepath.Join(t.TempDir(), "ledger.json")} // the spec's 5 minutes
	s, ts := newServer(t, o)
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	c := newClient(t, o, ts, "https://till.example/notify")
	ctx := context.Background()
	amt, _ := pos.NewMoney(1992, "HKD")
	ref := gateways.OrderRef{OutTradeNo: "PA1", Wallet: pos.WeChatPay, Method: pos.MerchantQR, Amount: amt}
	res, err := c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA1", Amount: amt, Wallet: pos.WeChatPay})
	if err != nil || res.Status != gateways.StatusUserPaying || res.CodeURL == "" {
		t.Fatalf("CreateQR = %+v, %v", res, err)
	}
	now = now.Add(4*time.Minute + 59*time.Second)
	if res, err := c.Close(ctx, ref); err != nil || res.Status != gateways.StatusFailed || res.Code != "Order close fail" {
		t.Fatalf("Close at 4m59s = %+v, %v; want refused as too early", res, err)
	}
	if res, err := c.Query(ctx, ref); err != nil || res.Status != gateways.StatusUserPaying {
		t.Fatalf("Query after a refused close = %+v, %v; want still open", res, err)
	}
	now = now.Add(time.Second)
	if res, err := c.Close(ctx, ref); err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Close at 5m = %+v, %v", res, err)
	}
	if res, err := c.Query(ctx, ref); err != nil || res.Status != gateways.StatusFailed || res.Code != "CLOSED" {
		t.Fatalf("Query after close = %+v, %v; want CLOSED", res, err)
	}
	// The ledger survives a restart.
	s2, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s2.Ledger().Get("PA1"); !ok || got.State != "CLOSED" {
		t.Fatalf("reopened ledger has %+v", got)
	}
}

// TestNotificationResent: the platform resends until it reads "success".
func TestNotificationResent(t *testing.T) {
	var calls atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			_, _ = io.WriteString(w, "fail")
			return
		}
		_, _ = io.WriteString(w, "SUCCESS") // not case sensitive (§7 note 4)
	}))
	defer rcv.Close()
	o := DemoOptions()
	o.NotifySchedule = []time.Duration{0, 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}
	s, ts := newServer(t, o)
	c := newClient(t, o, ts, rcv.URL)
	amt, _ := pos.NewMoney(100, "HKD")
	ctx := context.Background()
	if _, err := c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA2", Amount: amt, Wallet: pos.UnionPay}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Query(ctx, gateways.OrderRef{OutTradeNo: "PA2"}); err != nil || res.Status != gateways.StatusSucceeded || res.Wallet != pos.UnionPay {
		t.Fatalf("Query = %+v, %v", res, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !s.Acked("PA2") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !s.Acked("PA2") || calls.Load() != 3 {
		t.Fatalf("acked %v after %d deliveries, want acked on the 3rd", s.Acked("PA2"), calls.Load())
	}
}
