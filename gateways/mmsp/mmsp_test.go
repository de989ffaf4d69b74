package mmsp

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
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
			if _, err := Parse(bytes.TrimSpace(got), testKey, SlashEscaped); err != nil {
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
		return Marshal(h, body, Sign(body, key, SlashEscaped))
	}
}

func neg(ret int, msg string) func([]byte) []byte {
	return func([]byte) []byte {
		return Marshal(Header{CommandID: CmdNegative, RetCode: ret, ErrorMsg: msg, Answer: true, MerNo: "001440353999853", TermNo: "84970001"}, nil, "")
	}
}

type mapped struct {
	status   gateways.Status
	kind     pos.Kind // an error of this kind instead of a result
	code     string
	mismatch bool
}

func checkMapped(t *testing.T, res gateways.Result, err error, want mapped) {
	t.Helper()
	if want.kind != 0 {
		if !pos.Match(want.kind, err) {
			t.Fatalf("err = %v, want %s", err, want.kind)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != want.status || (want.code != "-" && res.Code != want.code) {
		t.Errorf("= %s code %q (%s), want %s code %q", res.Status, res.Code, res.Reason, want.status, want.code)
	}
	if (res.Mismatch != "") != want.mismatch {
		t.Errorf("Mismatch = %q, want set %v", res.Mismatch, want.mismatch)
	}
	if res.Status == gateways.StatusFailed && res.Reason == "" {
		t.Error("Failed without Reason")
	}
}

// TestStatusMapping: every answer is read by the operation's outcome
// table; what the table does not list is Unknown, and an answer about
// another merchant, terminal, order or amount is a Mismatch.
func TestStatusMapping(t *testing.T) {
	code, _ := pos.ParseAuthCode("134567890123456789")
	mp := gateways.MicropayRequest{OutTradeNo: "A1", Amount: cny(t, 100), Code: code}
	ok := func(f map[string]string) func([]byte) []byte { return answerWith(35075, f, testKey, nil) }
	hdr := func(f map[string]string, mutate func(*Header)) func([]byte) []byte {
		return answerWith(35075, f, testKey, mutate)
	}
	paid := map[string]string{"STATUS": "1", "MERORDERID": "A1", "ORDERNO": "42"}
	micropayCases := []struct {
		name   string
		answer func([]byte) []byte
		want   mapped
	}{
		{"paid", ok(paid), mapped{status: gateways.StatusSucceeded, code: "1"}},
		{"paying", ok(map[string]string{"STATUS": "3", "ERR_CODE": "AA", "MERORDERID": "A1"}), mapped{status: gateways.StatusUserPaying, code: "AA"}},
		{"declined", ok(map[string]string{"STATUS": "2", "ERR_CODE": "Z1", "ERR_CODE_MSG": "余额不足", "MERORDERID": "A1"}), mapped{status: gateways.StatusFailed, code: "Z1"}},
		{"closed D4", ok(map[string]string{"STATUS": "2", "ERR_CODE": "D4", "MERORDERID": "A1"}), mapped{status: gateways.StatusFailed, code: "D4"}},
		{"ERR_CODE AA contradicts STATUS 1", ok(map[string]string{"STATUS": "1", "ERR_CODE": "AA", "MERORDERID": "A1"}), mapped{status: gateways.StatusUnknown, code: "AA"}},
		{"unlisted STATUS", ok(map[string]string{"STATUS": "9", "MERORDERID": "A1"}), mapped{status: gateways.StatusUnknown, code: "9"}},
		{"no STATUS", ok(map[string]string{"MERORDERID": "A1"}), mapped{status: gateways.StatusUnknown, code: ""}},
		{"no MERORDERID", ok(map[string]string{"STATUS": "1"}), mapped{status: gateways.StatusUnknown, code: "1"}},
		{"RetCode 0 on a signed answer (§3.1 example)", hdr(paid, func(h *Header) { h.RetCode = 0 }), mapped{status: gateways.StatusSucceeded, code: "1"}},
		{"no RetCode", hdr(paid, func(h *Header) { h.Answer = false }), mapped{status: gateways.StatusUnknown, code: "1"}},
		{"unlisted RetCode", hdr(paid, func(h *Header) { h.RetCode = 7 }), mapped{status: gateways.StatusUnknown, code: "7"}},
		{"no TERMNO", hdr(paid, func(h *Header) { h.TermNo = "" }), mapped{status: gateways.StatusUnknown, code: "1"}},
		{"wrong signature", answerWith(35075, map[string]string{"STATUS": "2"}, "wrong", nil), mapped{kind: pos.Unknown}},
		{"wrong CommandID", answerWith(35077, paid, testKey, nil), mapped{kind: pos.Unknown}},
		{"other merchant", hdr(paid, func(h *Header) { h.MerNo = "999" }), mapped{status: gateways.StatusUnknown, code: "1", mismatch: true}},
		{"other terminal", hdr(paid, func(h *Header) { h.TermNo = "99999999" }), mapped{status: gateways.StatusUnknown, code: "1", mismatch: true}},
		{"other order", ok(map[string]string{"STATUS": "2", "MERORDERID": "B2"}), mapped{status: gateways.StatusUnknown, code: "2", mismatch: true}},
		{"other amount", ok(map[string]string{"STATUS": "1", "MERORDERID": "A1", "AMT": "1"}), mapped{status: gateways.StatusUnknown, code: "-", mismatch: true}},
		// M1: unsigned negative answers prove nothing about a charge…
		{"negative structure", neg(RetStructure, "消息结构体错误"), mapped{status: gateways.StatusUnknown, code: "0"}},
		{"negative pay failed (§3.1)", neg(RetPayFailed, "支付失败"), mapped{status: gateways.StatusUnknown, code: "39999"}},
		{"negative busy under RetCode 0", neg(RetStructure, "[-9999] 系统繁忙,请稍后再试"), mapped{status: gateways.StatusUnknown, code: "-9999"}},
		{"negative channel timeout", neg(RetStructure, "上游通道超时"), mapped{status: gateways.StatusUnknown, code: "0"}},
		{"negative too frequent under 39999", neg(RetPayFailed, "[-2003] 查询过于频繁"), mapped{status: gateways.StatusUnknown, code: "-2003"}},
		{"negative duplicate", neg(RetStructure, "[-1008] 流水号重复"), mapped{status: gateways.StatusUnknown, code: "-1008"}},
		{"negative no such order", neg(RetStructure, "[-2002] 没有该订单"), mapped{status: gateways.StatusUnknown, code: "-2002"}},
		{"negative unrecognised", neg(12345, "?"), mapped{status: gateways.StatusUnknown, code: "12345"}},
		// …except the refusals that come before any processing.
		{"negative signature", neg(RetStructure, "[-1006] 签名错误"), mapped{status: gateways.StatusFailed, code: "-1006"}},
		{"negative parameter", neg(RetPayFailed, "[-1001] 参数错误"), mapped{status: gateways.StatusFailed, code: "-1001"}},
		{"negative merchant", neg(RetStructure, "[-1002] 不存在此商户"), mapped{status: gateways.StatusFailed, code: "-1002"}},
		{"negative version", neg(RetStructure, "[-1007] 版本号错误"), mapped{status: gateways.StatusFailed, code: "-1007"}},
		{"negative amount (FAQ)", neg(RetStructure, "[-3005] 交易金额不符"), mapped{status: gateways.StatusFailed, code: "-3005"}},
		{"not JSON", func([]byte) []byte { return []byte("<html>") }, mapped{kind: pos.Unknown}},
	}
	for _, tc := range micropayCases {
		t.Run("Micropay/"+tc.name, func(t *testing.T) {
			rec := &recorder{answer: tc.answer}
			c := fixedClient(t, testOptions(rec.server(t).URL))
			res, err := c.Micropay(context.Background(), mp)
			checkMapped(t, res, err, tc.want)
			if err == nil && tc.answer != nil && res.Status == gateways.StatusSucceeded && res.OutTradeNo != "A1" {
				t.Errorf("OutTradeNo = %q, want the answer's MERORDERID", res.OutTradeNo)
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
		{"QueryRefund", func(c *Client) (gateways.Result, error) {
			return c.QueryRefund(context.Background(), gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "A1"}, OutRefundNo: "R1"})
		}},
	} {
		t.Run(tc.name+"/negative", func(t *testing.T) {
			for _, msg := range []string{"消息结构体错误", "[-1006] 签名错误", "[-1001] 参数错误", "[-3005] x", "支付失败"} {
				rec := &recorder{answer: neg(RetPayFailed, msg)}
				c := fixedClient(t, testOptions(rec.server(t).URL))
				if res, err := tc.call(c); err != nil || res.Status != gateways.StatusUnknown {
					t.Errorf("%q: %s, %v; want Unknown", msg, res.Status, err)
				}
			}
			rec := &recorder{answer: neg(RetStructure, "[-2002] 没有该订单")}
			c := fixedClient(t, testOptions(rec.server(t).URL))
			if _, err := tc.call(c); !pos.Match(pos.NotFound, err) {
				t.Errorf("[-2002]: %v, want NotFound", err)
			}
		})
	}
}

// TestQueryMapping: §10.3.2 answers. AMT is 必须; STATUS 2 is Failed (the
// flows close a failed QR order, Capabilities.Close).
func TestQueryMapping(t *testing.T) {
	ref := gateways.OrderRef{OutTradeNo: "A1", Amount: cny(t, 100), Wallet: pos.WeChatPay, Method: pos.MerchantQR}
	ans := func(f map[string]string) func([]byte) []byte { return answerWith(35078, f, testKey, nil) }
	for _, tc := range []struct {
		name string
		f    map[string]string
		want mapped
	}{
		{"paid", map[string]string{"STATUS": "1", "MERORDERID": "A1", "AMT": "100", "TRADETYPE": "2"}, mapped{status: gateways.StatusSucceeded, code: "1"}},
		{"failed", map[string]string{"STATUS": "2", "ERR_CODE": "D4", "MERORDERID": "A1", "AMT": "100"}, mapped{status: gateways.StatusFailed, code: "D4"}},
		{"paying", map[string]string{"STATUS": "3", "ERR_CODE": "AA", "MERORDERID": "A1", "AMT": "100"}, mapped{status: gateways.StatusUserPaying, code: "AA"}},
		{"no AMT", map[string]string{"STATUS": "1", "MERORDERID": "A1"}, mapped{status: gateways.StatusUnknown, code: "-"}},
		{"bad AMT", map[string]string{"STATUS": "1", "MERORDERID": "A1", "AMT": "1.00"}, mapped{status: gateways.StatusUnknown, code: "-"}},
		{"other amount", map[string]string{"STATUS": "1", "MERORDERID": "A1", "AMT": "99"}, mapped{status: gateways.StatusUnknown, code: "-", mismatch: true}},
		{"no MERORDERID", map[string]string{"STATUS": "1", "AMT": "100"}, mapped{status: gateways.StatusUnknown, code: "1"}},
		{"unlisted STATUS", map[string]string{"STATUS": "4", "MERORDERID": "A1", "AMT": "100"}, mapped{status: gateways.StatusUnknown, code: "4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{answer: ans(tc.f)}
			c := fixedClient(t, testOptions(rec.server(t).URL))
			res, err := c.Query(context.Background(), ref)
			checkMapped(t, res, err, tc.want)
			if tc.name == "paid" && (res.Amount != cny(t, 100) || res.OutTradeNo != "A1" || res.Wallet != pos.Alipay) {
				t.Errorf("Result does not name the order: %+v", res)
			}
		})
	}
	if !fixedClient(t, testOptions("http://127.0.0.1:1")).Capabilities().CanClose(pos.WeChatPay) {
		t.Error("a failed QR order must be closable")
	}
}

// TestCreateQRMapping: a create refused (signed STATUS 2 or any listed
// negative answer) issued no URL, so it is Failed; a duplicate number and
// unlisted answers are Unknown.
func TestCreateQRMapping(t *testing.T) {
	req := gateways.QRRequest{OutTradeNo: "A1", Amount: cny(t, 100), Wallet: pos.WeChatPay}
	ans := func(f map[string]string) func([]byte) []byte { return answerWith(35074, f, testKey, nil) }
	for _, tc := range []struct {
		name   string
		answer func([]byte) []byte
		want   mapped
	}{
		{"created", ans(map[string]string{"STATUS": "1", "MERORDERID": "A1", "URL": "weixin://wxpay/x", "ORDERNO": "42"}), mapped{status: gateways.StatusUserPaying, code: "1"}},
		{"created without URL", ans(map[string]string{"STATUS": "1", "MERORDERID": "A1"}), mapped{status: gateways.StatusUnknown, code: "1"}},
		{"refused", ans(map[string]string{"STATUS": "2", "MERORDERID": "A1", "ERR_CODE": "X", "ERR_CODE_MSG": "下单失败"}), mapped{status: gateways.StatusFailed, code: "X"}},
		{"STATUS 3 not listed for a create", ans(map[string]string{"STATUS": "3", "MERORDERID": "A1", "URL": "weixin://x"}), mapped{status: gateways.StatusUnknown, code: "3"}},
		{"negative 39999", neg(RetPayFailed, "支付失败"), mapped{status: gateways.StatusFailed, code: "39999"}},
		{"negative signature", neg(RetStructure, "[-1006] 签名错误"), mapped{status: gateways.StatusFailed, code: "-1006"}},
		{"negative duplicate", neg(RetStructure, "[-1008] 流水号重复"), mapped{status: gateways.StatusUnknown, code: "-1008"}},
		{"negative unlisted", neg(RetStructure, "[-9999] 系统繁忙"), mapped{status: gateways.StatusUnknown, code: "-9999"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{answer: tc.answer}
			c := fixedClient(t, testOptions(rec.server(t).URL))
			res, err := c.CreateQR(context.Background(), req)
			checkMapped(t, res, err, tc.want)
			if tc.name == "created" && res.CodeURL.Reveal() != "weixin://wxpay/x" {
				t.Errorf("CodeURL = %q", res.CodeURL.Reveal())
			}
		})
	}
}

// TestRefundMapping: 受理成功 is accepted, not refunded (M5): Processing on
// 2312, and on 2313 until RefundSettle has passed since REFUND_TIME.
// Unsigned negatives are Unknown except refusals before processing.
func TestRefundMapping(t *testing.T) {
	req := gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "A1", Amount: cny(t, 100)}, OutRefundNo: "R1", Amount: cny(t, 40)}
	now := time.Date(2026, 3, 1, 4, 5, 6, 0, time.UTC) // fixedClient's clock
	recent := now.Add(-time.Minute).In(cst).Format(TimeLayout)
	old := now.Add(-DefaultRefundSettle).In(cst).Format(TimeLayout)
	for _, tc := range []struct {
		name   string
		query  bool
		answer func([]byte) []byte
		want   mapped
	}{
		{"accepted", false, answerWith(35080, map[string]string{"STATUS": "1", "REFUND_MERORDERID": "R1", "AMT": "40", "REFUND_TIME": recent}, testKey, nil), mapped{status: gateways.StatusUserPaying, code: "1"}},
		{"accepted long ago is still only accepted on 2312", false, answerWith(35080, map[string]string{"STATUS": "1", "REFUND_MERORDERID": "R1", "AMT": "40", "REFUND_TIME": old}, testKey, nil), mapped{status: gateways.StatusUserPaying, code: "1"}},
		{"refused", false, answerWith(35080, map[string]string{"STATUS": "2", "REFUND_MERORDERID": "R1", "ERR_CODE": "F1", "ERR_CODE_MSG": "退款失败"}, testKey, nil), mapped{status: gateways.StatusFailed, code: "F1"}},
		{"other refund", false, answerWith(35080, map[string]string{"STATUS": "1", "REFUND_MERORDERID": "R2"}, testKey, nil), mapped{status: gateways.StatusUnknown, code: "-", mismatch: true}},
		{"other amount", false, answerWith(35080, map[string]string{"STATUS": "1", "REFUND_MERORDERID": "R1", "AMT": "41"}, testKey, nil), mapped{status: gateways.StatusUnknown, code: "-", mismatch: true}},
		{"no REFUND_MERORDERID", false, answerWith(35080, map[string]string{"STATUS": "1", "AMT": "40"}, testKey, nil), mapped{status: gateways.StatusUnknown, code: "1"}},
		{"negative system error", false, neg(RetStructure, "[-9999] 系统错误"), mapped{status: gateways.StatusUnknown, code: "-9999"}},
		{"negative 39999", false, neg(RetPayFailed, "支付失败"), mapped{status: gateways.StatusUnknown, code: "39999"}},
		{"negative no such order", false, neg(RetStructure, "[-2002] 没有该订单"), mapped{status: gateways.StatusUnknown, code: "-2002"}},
		{"negative signature", false, neg(RetStructure, "[-1006] 签名错误"), mapped{status: gateways.StatusFailed, code: "-1006"}},
		{"query accepted recently", true, answerWith(35081, map[string]string{"STATUS": "1", "REFUND_MERORDERID": "R1", "AMT": "40", "REFUND_TIME": recent}, testKey, nil), mapped{status: gateways.StatusUserPaying, code: "1"}},
		{"query accepted and settled", true, answerWith(35081, map[string]string{"STATUS": "1", "REFUND_MERORDERID": "R1", "AMT": "40", "REFUND_TIME": old}, testKey, nil), mapped{status: gateways.StatusSucceeded, code: "1"}},
		{"query without REFUND_TIME", true, answerWith(35081, map[string]string{"STATUS": "1", "REFUND_MERORDERID": "R1", "AMT": "40"}, testKey, nil), mapped{status: gateways.StatusUserPaying, code: "1"}},
		{"query refund failed", true, answerWith(35081, map[string]string{"STATUS": "2", "REFUND_MERORDERID": "R1", "AMT": "40", "REFUND_TIME": old}, testKey, nil), mapped{status: gateways.StatusFailed, code: "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{answer: tc.answer}
			c := fixedClient(t, testOptions(rec.server(t).URL))
			call := c.Refund
			if tc.query {
				call = c.QueryRefund
			}
			res, err := call(context.Background(), req)
			checkMapped(t, res, err, tc.want)
			if tc.name == "accepted" && (res.OutRefundNo != "R1" || res.RefundAmount != cny(t, 40)) {
				t.Errorf("Result does not name the refund: %+v", res)
			}
		})
	}
}

// TestQQAnswer: 776 is answered by 35094 only (M2), or by the configured
// answer; 776+0x8000 is the quick-pay card-binding query's answer.
func TestQQAnswer(t *testing.T) {
	qq, _ := pos.ParseAuthCode("910123456789012345")
	req := gateways.MicropayRequest{OutTradeNo: "A1", Amount: cny(t, 1), Code: qq}
	for _, tc := range []struct {
		answer, configured int
		ok                 bool
	}{{35094, 0, true}, {776 + ResponseOffset, 0, false}, {776 + ResponseOffset, 776 + ResponseOffset, true}, {35094, 776 + ResponseOffset, false}} {
		rec := &recorder{answer: answerWith(tc.answer, map[string]string{"STATUS": "1", "MERORDERID": "A1"}, testKey, nil)}
		o := testOptions(rec.server(t).URL)
		o.QQMicropayAnswer = tc.configured
		c := fixedClient(t, o)
		res, err := c.Micropay(context.Background(), req)
		if tc.ok && (err != nil || res.Status != gateways.StatusSucceeded) {
			t.Errorf("answer %d (configured %d): %s %v, want succeeded", tc.answer, tc.configured, res.Status, err)
		}
		if !tc.ok && !pos.Match(pos.Unknown, err) {
			t.Errorf("answer %d (configured %d): %s %v, want an Unknown error", tc.answer, tc.configured, res.Status, err)
		}
	}
	// The card-binding answer, §5.8.3 of the quick-pay part: STATUS 1, no MERORDERID.
	rec := &recorder{answer: answerWith(35094, map[string]string{"STATUS": "1"}, testKey, nil)}
	if res, err := fixedClient(t, testOptions(rec.server(t).URL)).Micropay(context.Background(), req); err != nil || res.Status != gateways.StatusUnknown {
		t.Errorf("answer without MERORDERID: %s %v, want Unknown", res.Status, err)
	}
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
		{"no notify: notifications unused", func(o *Options) { o.NotifyURL = "" }, ""},
		{"notify_url of 50", func(o *Options) { o.NotifyURL = "https://till.example/" + strings.Repeat("n", 29) }, ""},
		{"notify_url over the QR commands' 50", func(o *Options) { o.NotifyURL = "https://till.example/" + strings.Repeat("n", 30) }, "string(50)"},
		{"notify_url not a URL", func(o *Options) { o.NotifyURL = "till/notify" }, "notify_url"},
		{"agent_no of 15", func(o *Options) { o.AgentNo = "001100045823148" }, ""},
		{"agent_no over 15", func(o *Options) { o.AgentNo = "0011000458231481" }, "agent_no"},
		{"goods_name of 15 bytes", func(o *Options) { o.GoodsName = "商店abcdefghi" }, ""},
		{"goods_name over 15 bytes", func(o *Options) { o.GoodsName = "一二三四五六" }, "goods_name"},
		{"qq answer not an answer", func(o *Options) { o.QQMicropayAnswer = 776 }, "qq_micropay_answer"},
		{"cert without key", func(o *Options) { o.ClientCertFile = "c.pem" }, "client_key_file"},
		{"cert file missing", func(o *Options) { o.ClientCertFile = "c.pem"; o.ClientKeyFile = "good.key" }, "client_cert_file"},
		{"call timeout not below reverse_after", func(o *Options) { o.CallTimeout = 15 * time.Second }, "call_timeout"},
		{"negative refund_settle", func(o *Options) { o.RefundSettle = -time.Second }, "refund_settle"},
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
		return Marshal(h, body, Sign(body, key, SlashEscaped))
	}
	n, err := c.ParseNotification(nil, mk("100", testKey, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := gateways.Notification{ID: "mmsp:4220260301:1", OutTradeNo: "A1", Result: gateways.Result{
		Status: gateways.StatusSucceeded, TransactionID: "4220260301", OutTradeNo: "A1", Wallet: pos.Alipay, Amount: cny(t, 100), Code: "1",
		PaidAt: time.Date(2026, 3, 1, 4, 0, 5, 0, time.UTC), Detail: "mmsp 2324 STATUS=1",
	}}
	if diff := cmp.Diff(want, n, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("notification (-want +got):\n%s", diff)
	}
	// AMT quoted or not verifies as sent.
	if _, err := c.ParseNotification(nil, mk(`"100"`, testKey, nil)); err != nil {
		t.Errorf("quoted AMT: %v", err)
	}
	// M4: signed, but for another merchant or terminal: named, never adopted.
	for name, body := range map[string][]byte{
		"other merchant": mk("100", testKey, func(h *Header) { h.MerNo = "1" }),
		"other terminal": mk("100", testKey, func(h *Header) { h.TermNo = "99999999" }),
		"no terminal":    mk("100", testKey, func(h *Header) { h.TermNo = "" }),
	} {
		n, err := c.ParseNotification(nil, body)
		if err != nil || n.Result.Mismatch == "" || n.Result.Status != gateways.StatusUnknown || n.OutTradeNo != "A1" || n.Result.Amount != cny(t, 100) {
			t.Errorf("%s: %+v %v; want Unknown with Mismatch, naming order and amount", name, n, err)
		}
	}
	// The amount is filled for the flows to compare with the order's.
	if n, err := c.ParseNotification(nil, mk("1", testKey, nil)); err != nil || n.Result.Amount != cny(t, 1) {
		t.Errorf("AMT 1: %+v %v", n.Result, err)
	}
	for name, body := range map[string][]byte{
		"wrong key":  mk("100", "other", nil),
		"not 2324":   mk("100", testKey, func(h *Header) { h.CommandID = 35078 }),
		"bad amount": mk(`"1x"`, testKey, nil),
		"no amount":  mk(`""`, testKey, nil),
		"empty":      nil,
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
	f.Add(Marshal(Header{CommandID: CmdNotify, MerNo: "001440353999853"}, body, Sign(body, testKey, SlashEscaped)))
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

// TestWireFields: LIMIT_PAY only on the commands whose tables list it
// (M10); GOODSNAME cut to 15 bytes on a character boundary (M10);
// NOTIFY_URL left out when notifications are not used; and the default
// signature is §3.3.2.1's MD5 over the Body bytes exactly as sent (M3),
// checked here with crypto/md5 on the wire bytes, not with Sign.
func TestWireFields(t *testing.T) {
	code, _ := pos.ParseAuthCode("134567890123456789")
	bodyRE := regexp.MustCompile(`"Body":(\{.*\}),"Sign":"([0-9A-F]{32})"`)
	for _, tc := range []struct {
		name      string
		wallet    pos.Wallet
		micropay  bool
		alipayQR  string
		notifyURL string
		limitPay  bool
	}{
		{"2307", pos.WeChatPay, true, "", "http://127.0.0.1:8080/notify/mmsp", true},
		{"2309", pos.Alipay, true, "", "http://127.0.0.1:8080/notify/mmsp", true},
		{"2306", pos.WeChatPay, false, "", "http://127.0.0.1:8080/notify/mmsp", true},
		{"2308", pos.Alipay, false, "preorder", "http://127.0.0.1:8080/notify/mmsp", true},
		{"2325", pos.QQWallet, false, "", "http://127.0.0.1:8080/notify/mmsp", true},
		{"1026", pos.Alipay, false, "static", "", false},
		{"1027", pos.Alipay, false, "dynamic", "http://127.0.0.1:8080/notify/mmsp", false},
		{"1025", pos.UnionPay, false, "", "http://127.0.0.1:8080/notify/mmsp", false},
		{"1031", pos.JDPay, false, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			o := testOptions(rec.server(t).URL)
			o.LimitCredit, o.AlipayQR, o.NotifyURL = true, tc.alipayQR, tc.notifyURL
			c := fixedClient(t, o)
			desc := "一二三四五六" // 18 bytes: cut to the first five characters
			if tc.micropay {
				code := code
				if tc.wallet == pos.Alipay {
					code, _ = pos.ParseAuthCode("284567890123456789")
				}
				_, _ = c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "A1", Amount: cny(t, 1), Code: code, Description: desc})
			} else {
				_, _ = c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: "A1", Amount: cny(t, 1), Wallet: tc.wallet, Description: desc})
			}
			if len(rec.reqs) != 1 {
				t.Fatalf("%d requests", len(rec.reqs))
			}
			req := string(rec.reqs[0])
			if !strings.Contains(req, `"CommandID":`+tc.name+`,`) {
				t.Fatalf("not command %s: %s", tc.name, req)
			}
			if strings.Contains(req, `"LIMIT_PAY"`) != tc.limitPay {
				t.Errorf("LIMIT_PAY sent = %v, want %v", !tc.limitPay, tc.limitPay)
			}
			if strings.Contains(req, `"NOTIFY_URL"`) != (tc.notifyURL != "") {
				t.Errorf("NOTIFY_URL presence wrong for notify_url %q", tc.notifyURL)
			}
			if !strings.Contains(req, `"GOODSNAME":"一二三四五"`) {
				t.Errorf("GOODSNAME not cut to 15 bytes: %s", req)
			}
			m := bodyRE.FindStringSubmatch(req)
			if m == nil {
				t.Fatalf("no Body/Sign in %s", req)
			}
			sum := md5.Sum([]byte(m[1] + "&key=" + testKey))
			if got := strings.ToUpper(hex.EncodeToString(sum[:])); got != m[2] {
				t.Errorf("Sign %s is not MD5(Body as sent + &key=): %s", m[2], got)
			}
			if tc.notifyURL != "" && !strings.Contains(m[1], `http:\/\/127.0.0.1:8080\/notify\/mmsp`) {
				t.Errorf("NOTIFY_URL not sent json_encode-escaped: %s", m[1])
			}
		})
	}
	if c := fixedClient(t, Options{Endpoint: "http://127.0.0.1:1", MerchantNo: "M", TerminalNo: "T", Key: testKey}); c.Capabilities().Notify {
		t.Error("without notify_url the adapter must not declare notifications")
	}
}

func TestTruncateBytes(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", "一二三四五六": "一二三四五", "abcdefghijklmn一": "abcdefghijklmn", "abcdefghijklm一": "abcdefghijklm", "abcdefghijkl一": "abcdefghijkl一"} {
		if got := truncateBytes(in, 15); got != want {
			t.Errorf("truncateBytes(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExampleConfig: the example config's MMSP options are what New
// accepts, and spell out the default slash rule.
func TestExampleConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "configs", "posagent.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Gateways []struct {
			Kind    string    `yaml:"kind"`
			Options yaml.Node `yaml:"options"`
		} `yaml:"gateways"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, g := range cfg.Gateways {
		if g.Kind != Kind {
			continue
		}
		var o Options
		if err := g.Options.Decode(&o); err != nil {
			t.Fatal(err)
		}
		if o.SignSlashes != SlashEscaped {
			t.Errorf("sign_slashes = %q, want %q", o.SignSlashes, SlashEscaped)
		}
		o.KeyFile, o.Key = "", testKey
		if _, err := New(o, gateways.Env{}); err != nil {
			t.Errorf("the example's options are refused: %v", err)
		}
		return
	}
	t.Fatal("no mmsp gateway in the example config")
}
