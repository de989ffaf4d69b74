package mmsp

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var zeroMoney pos.Money

func envForTest() gateways.Env { return gateways.Env{} }

func cny(t testing.TB, minor int64) pos.Money {
	m, err := pos.NewMoney(minor, "CNY")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testOptions(endpoint string) Options {
	return Options{
		Endpoint: endpoint, MerchantNo: "001440353999853", TerminalNo: "84970001",
		Key: testKey, NotifyURL: "http://127.0.0.1:8080/notify/mmsp", Simulated: true,
	}
}

// recorder is a platform that records requests and answers each with
// whatever answer() returns (a negative answer by default).
type recorder struct {
	reqs   [][]byte
	answer func(req []byte) []byte
}

func (r *recorder) server(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.reqs = append(r.reqs, b)
		if r.answer != nil {
			_, _ = w.Write(r.answer(b))
			return
		}
		_, _ = w.Write([]byte(`{"CommandID":32768,"RetCode":1008,"ErrorMsg":"test","Body":"","Sign":""}`))
	}))
	t.Cleanup(ts.Close)
	return ts
}

func fixedClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o, envForTest())
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return time.Date(2026, 3, 1, 4, 5, 6, 0, time.UTC) }
	c.randStr = func() string { return "r4nd0m5tr1ng" }
	return c
}

// TestGoldenRequests pins the exact signed bytes of every request for fixed
// inputs; run with -update after a deliberate wire change and review the diff.
func TestGoldenRequests(t *testing.T) {
	code := func(s string) pos.AuthCode {
		c, err := pos.ParseAuthCode(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ref := gateways.OrderRef{OutTradeNo: "POS20260301000001", Amount: cny(t, 1234)}
	refund := gateways.RefundRequest{Order: ref, OutRefundNo: "RF20260301000001", Amount: cny(t, 234)}
	cases := []struct {
		name string
		opts func(*Options)
		call func(c *Client) error
	}{
		{"micropay_wechat", nil, func(c *Client) error {
			_, err := c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "POS20260301000001", Amount: cny(t, 1234), Code: code("134567890123456789"), Description: "咖啡 Coffee/大杯 x2 超长的商品名称会被截断"})
			return err
		}},
		{"micropay_alipay_options", func(o *Options) {
			o.OrderExpiry = 2 * time.Minute
			o.LimitCredit = true
			o.ClientIP = "192.168.1.20"
		}, func(c *Client) error {
			_, err := c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "POS20260301000002", Amount: cny(t, 1), Code: code("284567890123456789")})
			return err
		}},
		{"micropay_qq_agency", func(o *Options) { o.AgentNo = "00110004" }, func(c *Client) error {
			_, err := c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "POS20260301000003", Amount: cny(t, 99), Code: code("910123456789012345")})
			return err
		}},
		{"qr_wechat", nil, func(c *Client) error {
			_, err := c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: "POS20260301000004", Amount: cny(t, 500), Wallet: pos.WeChatPay, Expires: time.Date(2026, 3, 1, 4, 10, 0, 0, time.UTC)})
			return err
		}},
		{"qr_alipay_dynamic", func(o *Options) { o.AlipayQR = "dynamic" }, func(c *Client) error {
			_, err := c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: "POS20260301000005", Amount: cny(t, 500), Wallet: pos.Alipay})
			return err
		}},
		{"query", nil, func(c *Client) error { _, err := c.Query(context.Background(), ref); return err }},
		{"reverse", nil, func(c *Client) error { _, err := c.Reverse(context.Background(), ref); return err }},
		{"close", nil, func(c *Client) error { _, err := c.Close(context.Background(), ref); return err }},
		{"refund", nil, func(c *Client) error { _, err := c.Refund(context.Background(), refund); return err }},
		{"refund_query", nil, func(c *Client) error { _, err := c.QueryRefund(context.Background(), refund); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			ts := rec.server(t)
			o := testOptions(ts.URL)
			if tc.opts != nil {
				tc.opts(&o)
			}
			c := fixedClient(t, o)
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			if len(rec.reqs) != 1 {
				t.Fatalf("%d requests", len(rec.reqs))
			}
			got := append(rec.reqs[0], '\n')
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("request bytes differ from %s (-want +got):\n%s", path, diff)
			}
			// The golden request verifies with the key it was signed with.
			if _, err := Parse(bytes.TrimSpace(got), testKey, SlashFAQ); err != nil {
				t.Errorf("golden request does not verify: %v", err)
			}
			if strings.Contains(string(got), `"AGENTNO"`) != (o.AgentNo != "") {
				t.Errorf("AGENTNO presence wrong for agent %q", o.AgentNo)
			}
		})
	}
}

// answerWith signs a typed answer to the recorded request.
func answerWith(cmd int, fields map[string]string, key string, mutate func(*Header)) func([]byte) []byte {
	return func([]byte) []byte {
		body := EncodeBody(fields)
		h := Header{CommandID: cmd, SeqID: 1, NodeType: 3, NodeID: "openplat", MerNo: "001440353999853", TermNo: "84970001", RetCode: 1, Answer: true}
		if mutate != nil {
			mutate(&h)
		}
		return Marshal(h, body, Sign(body, key, SlashFAQ))
	}
}

func TestStatusMapping(t *testing.T) {
	code, _ := pos.ParseAuthCode("134567890123456789")
	mp := gateways.MicropayRequest{OutTradeNo: "A1", Amount: cny(t, 100), Code: code}
	type want struct {
		status gateways.Status
		kind   pos.Kind
		code   string
	}
	neg := func(ret int, msg string) func([]byte) []byte {
		return func([]byte) []byte {
			return Marshal(Header{CommandID: CmdNegative, RetCode: ret, ErrorMsg: msg, Answer: true}, nil, "")
		}
	}
	ok := func(f map[string]string) func([]byte) []byte { return answerWith(35075, f, testKey, nil) }
	micropayCases := []struct {
		name   string
		answer func([]byte) []byte
		want   want
	}{
		{"paid", ok(map[string]string{"STATUS": "1", "MERORDERID": "A1", "ORDERNO": "42"}), want{gateways.StatusSucceeded, 0, "1"}},
		{"paying", ok(map[string]string{"STATUS": "3", "ERR_CODE": "AA", "MERORDERID": "A1"}), want{gateways.StatusUserPaying, 0, "AA"}},
		{"declined", ok(map[string]string{"STATUS": "2", "ERR_CODE": "Z1", "ERR_CODE_MSG": "余额不足", "MERORDERID": "A1"}), want{gateways.StatusFailed, 0, "Z1"}},
		{"unknown STATUS", ok(map[string]string{"STATUS": "9", "MERORDERID": "A1"}), want{gateways.StatusUnknown, 0, "9"}},
		{"no STATUS", ok(map[string]string{"MERORDERID": "A1"}), want{gateways.StatusUnknown, 0, ""}},
		{"RetCode 0 on a signed answer (§3.1 example)", answerWith(35075, map[string]string{"STATUS": "1"}, testKey, func(h *Header) { h.RetCode = 0 }), want{gateways.StatusSucceeded, 0, "1"}},
		{"unexpected RetCode", answerWith(35075, map[string]string{"STATUS": "1"}, testKey, func(h *Header) { h.RetCode = 7 }), want{gateways.StatusUnknown, 0, "7"}},
		{"wrong signature", answerWith(35075, map[string]string{"STATUS": "2"}, "wrong", nil), want{gateways.StatusUnknown, pos.Unknown, ""}},
		{"wrong CommandID", answerWith(35077, map[string]string{"STATUS": "2"}, testKey, nil), want{gateways.StatusUnknown, pos.Unknown, ""}},
		{"other merchant", answerWith(35075, map[string]string{"STATUS": "2"}, testKey, func(h *Header) { h.MerNo = "999" }), want{gateways.StatusUnknown, pos.Unknown, ""}},
		{"other order", ok(map[string]string{"STATUS": "2", "MERORDERID": "B2"}), want{gateways.StatusUnknown, pos.Unknown, ""}},
		{"other amount", ok(map[string]string{"STATUS": "1", "MERORDERID": "A1", "AMT": "1"}), want{gateways.StatusUnknown, pos.Unknown, ""}},
		{"negative structure", neg(RetStructure, "消息结构体错误"), want{gateways.StatusFailed, 0, "0"}},
		{"negative signature", neg(RetSignature, "[-1006] 签名错误"), want{gateways.StatusFailed, 0, "-1006"}},
		{"negative pay failed", neg(RetPayFailed, "支付失败"), want{gateways.StatusFailed, 0, "39999"}},
		{"negative duplicate", neg(RetDuplicate, "[-1008] 订单号重复"), want{gateways.StatusUnknown, 0, "-1008"}},
		{"negative unrecognised", neg(12345, "?"), want{gateways.StatusUnknown, 0, "12345"}},
		{"not JSON", func([]byte) []byte { return []byte("<html>") }, want{gateways.StatusUnknown, pos.Unknown, ""}},
	}
	for _, tc := range micropayCases {
		t.Run("Micropay/"+tc.name, func(t *testing.T) {
			rec := &recorder{answer: tc.answer}
			c := fixedClient(t, testOptions(rec.server(t).URL))
			res, err := c.Micropay(context.Background(), mp)
			if tc.want.kind != 0 {
				if !pos.Match(tc.want.kind, err) {
					t.Fatalf("err = %v, want %s", err, tc.want.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want.status || res.Code != tc.want.code {
				t.Errorf("= %s code %q (%s), want %s code %q", res.Status, res.Code, res.Reason, tc.want.status, tc.want.code)
			}
			if res.Status == gateways.StatusFailed && res.Reason == "" {
				t.Error("Failed without Reason")
			}
		})
	}
	// Negative answers to follow-ups are never Failed: only "no such
	// order" is definite.
	for _, tc := range []struct {
		name string
		call func(c *Client) (gateways.Result, error)
	}{
		{"Query", func(c *Client) (gateways.Result, error) {
			return c.Query(context.Background(), gateways.OrderRef{OutTradeNo: "A1"})
		}},
		{"Reverse", func(c *Client) (gateways.Result, error) {
			return c.Reverse(context.Background(), gateways.OrderRef{OutTradeNo: "A1"})
		}},
		{"Close", func(c *Client) (gateways.Result, error) {
			return c.Close(context.Background(), gateways.OrderRef{OutTradeNo: "A1"})
		}},
	} {
		t.Run(tc.name+"/negative", func(t *testing.T) {
			for _, ret := range []int{RetStructure, RetSignature, RetPayFailed} {
				rec := &recorder{answer: neg(ret, "x")}
				c := fixedClient(t, testOptions(rec.server(t).URL))
				if res, err := tc.call(c); err != nil || res.Status != gateways.StatusUnknown {
					t.Errorf("RetCode %d: %s, %v; want Unknown", ret, res.Status, err)
				}
			}
			rec := &recorder{answer: neg(RetStructure, "[-2002] 没有该订单")}
			c := fixedClient(t, testOptions(rec.server(t).URL))
			if _, err := tc.call(c); !pos.Match(pos.NotFound, err) {
				t.Errorf("[-2002]: %v, want NotFound", err)
			}
		})
	}
	t.Run("QQ answer 35094 or 776+0x8000", func(t *testing.T) {
		qq, _ := pos.ParseAuthCode("910123456789012345")
		for _, cmd := range []int{35094, 776 + ResponseOffset} {
			rec := &recorder{answer: answerWith(cmd, map[string]string{"STATUS": "1"}, testKey, nil)}
			c := fixedClient(t, testOptions(rec.server(t).URL))
			res, err := c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "A1", Amount: cny(t, 1), Code: qq})
			if err != nil || res.Status != gateways.StatusSucceeded {
				t.Errorf("answer %d: %s %v", cmd, res.Status, err)
			}
		}
	})
}

func TestNewValidates(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	loose := filepath.Join(dir, "loose.key")
	os.WriteFile(good, []byte(testKey+"\n"), 0o600)
	os.WriteFile(loose, []byte(testKey), 0o640)
	os.Chmod(loose, 0o640)
	base := func() Options { o := testOptions("https://mmsp.example/openplat"); o.Simulated = false; return o }
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		errHas string
	}{
		{"ok", func(*Options) {}, ""},
		{"key file", func(o *Options) { o.Key = ""; o.KeyFile = "good.key" }, ""},
		{"loose key file", func(o *Options) { o.Key = ""; o.KeyFile = loose }, "mode 0640"},
		{"both keys", func(o *Options) { o.KeyFile = good }, "not both"},
		{"no key", func(o *Options) { o.Key = "" }, "key"},
		{"http endpoint", func(o *Options) { o.Endpoint = "http://mmsp.example/" }, "https"},
		{"http loopback", func(o *Options) { o.Endpoint = "http://127.0.0.1:9000/" }, ""},
		{"no merchant", func(o *Options) { o.MerchantNo = "" }, "merchant_no"},
		{"long terminal", func(o *Options) { o.TerminalNo = "123456789" }, "terminal_no"},
		{"no notify", func(o *Options) { o.NotifyURL = "" }, "notify_url"},
		{"fast poll", func(o *Options) { o.Timing.PollInterval = time.Second }, "poll_interval"},
		{"fast poll simulated", func(o *Options) { o.Timing.PollInterval = time.Second; o.Simulated = true }, ""},
		{"early reverse", func(o *Options) { o.Timing.ReverseAfter = time.Second }, "reverse_after"},
		{"alipay qr", func(o *Options) { o.AlipayQR = "h5" }, "alipay_qr"},
		{"slashes", func(o *Options) { o.SignSlashes = "none" }, "sign_slashes"},
		{"ip", func(o *Options) { o.ClientIP = "host" }, "client_ip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.mutate(&o)
			c, err := New(o, gateways.Env{Dir: dir})
			if tc.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tm := c.Timing(); tm.ReverseAfter < time.Second || tm.PollInterval <= 0 {
					t.Errorf("timing %+v", tm)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || !pos.Match(pos.Invalid, err) {
				t.Fatalf("err = %v, want an Invalid error mentioning %q", err, tc.errHas)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Fatal("error leaks the key")
			}
		})
	}
	c, _ := New(base(), gateways.Env{})
	if tm := c.Timing(); tm.ReverseAfter != SpecReverseAfter || tm.PollInterval != MinPollInterval {
		t.Errorf("default timing = %+v", tm)
	}
}

func TestRegistryDecodesYAML(t *testing.T) {
	src := `
endpoint: https://mmsp.example/openplat
merchant_no: "001440353999853"
terminal_no: "84970001"
key: ea21842eea24e448b991b1cb0a0294cf
notify_url: https://till.example/notify/mmsp
qq_micropay_command: 2326
alipay_qr: static
order_expiry: 3m
timing:
  poll_interval: 6s
  reverse_after: 20s
call_timeout: 9s
`
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(src), &node); err != nil {
		t.Fatal(err)
	}
	gw, err := gateways.New(Kind, func(v any) error { return node.Decode(v) }, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	c := gw.(*Client)
	if c.opts.QQMicropayCommand != 2326 || c.alipayQ != CmdAlipayStaticQR || c.opts.OrderExpiry != 3*time.Minute {
		t.Errorf("options = %+v", c.opts)
	}
	if tm := c.Timing(); tm.PollInterval != 6*time.Second || tm.ReverseAfter != 20*time.Second || tm.CallTimeout != 9*time.Second {
		t.Errorf("timing = %+v", tm)
	}
}

func TestNotification(t *testing.T) {
	c := fixedClient(t, testOptions("http://127.0.0.1:1"))
	mk := func(amt string, key string, mutate func(*Header)) []byte {
		raw := `{"AMT":` + amt + `,"ORDERNO":"4220260301","TRDETIME":"2026-03-01 12:00:00","PAYTIME":"2026-03-01 12:00:05","STATUS":"1","TRADETYPE":"2","MERORDERID":"A1"}`
		body, err := CanonicalBody([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		h := Header{CommandID: CmdNotify, SeqID: 1, NodeType: 3, NodeID: "openplat", MerNo: "001440353999853", TermNo: "84970001"}
		if mutate != nil {
			mutate(&h)
		}
		return Marshal(h, body, Sign(body, key, SlashFAQ))
	}
	n, err := c.ParseNotification(nil, mk("100", testKey, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := gateways.Notification{ID: "mmsp:4220260301:1", OutTradeNo: "A1", Result: gateways.Result{
		Status: gateways.StatusSucceeded, TransactionID: "4220260301", Wallet: pos.Alipay, Amount: cny(t, 100), Code: "1",
		PaidAt: time.Date(2026, 3, 1, 4, 0, 5, 0, time.UTC), Detail: "mmsp 2324 STATUS=1",
	}}
	if diff := cmp.Diff(want, n, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("notification (-want +got):\n%s", diff)
	}
	// AMT quoted or not verifies as sent.
	if _, err := c.ParseNotification(nil, mk(`"100"`, testKey, nil)); err != nil {
		t.Errorf("quoted AMT: %v", err)
	}
	for name, body := range map[string][]byte{
		"wrong key":      mk("100", "other", nil),
		"other merchant": mk("100", testKey, func(h *Header) { h.MerNo = "1" }),
		"not 2324":       mk("100", testKey, func(h *Header) { h.CommandID = 35078 }),
		"bad amount":     mk(`"1x"`, testKey, nil),
		"empty":          nil,
	} {
		if _, err := c.ParseNotification(nil, body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if ct, b := c.NotificationAck(true); string(b) != "SUCCESS" || !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("ack = %s %q", ct, b)
	}
}

func FuzzParseNotification(f *testing.F) {
	body := EncodeBody(map[string]string{"STATUS": "1", "MERORDERID": "A1", "AMT": "100", "ORDERNO": "42"})
	f.Add(Marshal(Header{CommandID: CmdNotify, MerNo: "001440353999853"}, body, Sign(body, testKey, SlashFAQ)))
	f.Add([]byte(`{"CommandID":2324,"Body":{"AMT":1e999},"Sign":""}`))
	c, err := New(testOptions("http://127.0.0.1:1"), envForTest())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		n, err := c.ParseNotification(nil, raw)
		if err == nil && (n.ID == "" || n.OutTradeNo == "") {
			t.Fatalf("accepted a notification without ID or order: %+v", n)
		}
	})
}
