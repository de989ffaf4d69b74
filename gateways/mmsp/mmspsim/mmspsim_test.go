package mmspsim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways/sim"
)

const key = "ea21842eea24e448b991b1cb0a0294cf" // §12.3

// TestSignVectors: §3.3.2.1 over the §12 test key. The expected values
// were computed outside Go (md5sum over the text shown), for each slash
// rule.
func TestSignVectors(t *testing.T) {
	bd := stringBody(map[string]string{
		"AMT": "1", "GOODSNAME": "测试商品", "MERORDERID": "20240101000001",
		"NOTIFY_URL": "http://www.abc.com/a/b", "RANDSTR": "abc123", "CODE": "134567890123456789", "CUR": "CNY",
	})
	c, err := bd.canonical()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"AMT":"1","CODE":"134567890123456789","CUR":"CNY","GOODSNAME":"测试商品","MERORDERID":"20240101000001","NOTIFY_URL":"http:\/\/www.abc.com\/a\/b","RANDSTR":"abc123"}`
	if c != want {
		t.Fatalf("canonical:\n got %s\nwant %s", c, want)
	}
	for rule, sig := range map[string]string{
		SlashEscaped: "38FF203D90159AA1B854287A165BCDAB",
		SlashFAQ:     "E0FFA1529B4E0D0EEF5B521946414983",
		SlashPlain:   "A1B0B129875B0A32762C17B309D5CDFC",
	} {
		if got := sign(c, key, rule); got != sig {
			t.Errorf("sign(%s) = %s, want %s", rule, got, sig)
		}
	}
	// A received Body keeps its types: the number 100 and the string "100"
	// sign differently (FAQ 3), and escapes are re-encoded PHP-style.
	m, err := decode([]byte(`{"CommandID":2324,"Body":{"AMT":100,"B":"a\/b","A":"\u6d4b"},"Sign":""}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Canonical != `{"A":"测","AMT":100,"B":"a\/b"}` {
		t.Errorf("received canonical = %s", m.Canonical)
	}
}

// client talks to a simulator with the simulator's own wire code.
type client struct {
	t   *testing.T
	url string
}

func start(t *testing.T, o Options) (*Server, client) {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, client{t, ts.URL}
}

func (c client) raw(b []byte) message {
	c.t.Helper()
	resp, err := http.Post(c.url, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(resp.Body)
	m, err := decode(ans)
	if err != nil {
		c.t.Fatalf("answer %s: %v", ans, err)
	}
	if m.CommandID != cmdNegative {
		if err := m.verify(key, SlashEscaped); err != nil {
			c.t.Fatalf("answer does not verify: %v: %s", err, ans)
		}
	}
	return m
}

func (c client) send(cmd int, f map[string]string) message {
	c.t.Helper()
	return c.raw(c.signed(cmd, f, key, nil))
}

func micropay(no, amt, goods string) map[string]string {
	return map[string]string{"AMT": amt, "CUR": "CNY", "GOODSNAME": goods, "NOTIFY_URL": "http://127.0.0.1:1/n",
		"MERORDERID": no, "RANDSTR": "r", "CODE": "134567890123456789"}
}

func qr(no, amt string) map[string]string {
	return map[string]string{"TRADETYPE": "1", "AMT": amt, "GOODSNAME": "x", "NOTIFY_URL": "http://127.0.0.1:1/n", "MERORDERID": no, "RANDSTR": "r"}
}

// errorMsg posts and returns the negative answer's ErrorMsg.
func (c client) errorMsg(b []byte) string {
	c.t.Helper()
	resp, err := http.Post(c.url, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(ans), `"CommandID":32768`) {
		return ""
	}
	i := strings.Index(string(ans), `"ErrorMsg":"`)
	rest := string(ans)[i+len(`"ErrorMsg":"`):]
	return rest[:strings.Index(rest, `"`)]
}

func (c client) signed(cmd int, f map[string]string, k string, mutate func(*header)) []byte {
	canonical, _ := stringBody(f).canonical()
	h := header{CommandID: cmd, SeqID: 1, NodeType: 3, NodeID: "openplat", MerNo: TestMerchantNo, TermNo: TestTerminalNo}
	if mutate != nil {
		mutate(&h)
	}
	return encodeMessage(h, canonical, sign(canonical, k, SlashEscaped))
}

// TestRequestChecks: the request tables, read from the spec, refuse what
// they do not allow, with the refusal's sub-code.
func TestRequestChecks(t *testing.T) {
	_, c := start(t, DemoOptions())
	withField := func(f map[string]string, k, v string) map[string]string { f[k] = v; return f }
	for _, tc := range []struct {
		name string
		req  []byte
		want string // ErrorMsg prefix; "" for a typed answer
	}{
		{"ok", c.signed(2307, micropay("A1", "1", "x"), key, nil), ""},
		{"15 Chinese characters fit string(15)", c.signed(2307, micropay("A2", "1", "一二三四五六七八九十一二三四五"), key, nil), ""},
		{"bad signature", c.signed(2307, micropay("A3", "1", "x"), "other", nil), "[-1006]"},
		{"wrong merchant", c.signed(2307, micropay("A4", "1", "x"), key, func(h *header) { h.MerNo = "1" }), "[-1002]"},
		{"unknown command", c.signed(771, micropay("A5", "1", "x"), key, nil), "[-1001]"},
		{"missing CODE", c.signed(2307, withField(micropay("A6", "1", "x"), "CODE", ""), key, nil), "[-1001] 参数错误 缺少 CODE"},
		{"missing NOTIFY_URL", c.signed(2307, withField(micropay("A7", "1", "x"), "NOTIFY_URL", ""), key, nil), "[-1001] 参数错误 缺少 NOTIFY_URL"},
		{"16-character GOODSNAME", c.signed(2307, micropay("A8", "1", "一二三四五六七八九十一二三四五六"), key, nil), "[-1001] 参数错误 GOODSNAME"},
		{"long MERORDERID", c.signed(2307, micropay("123456789012345678901", "1", "x"), key, nil), "[-1001] 参数错误 MERORDERID"},
		{"zero amount", c.signed(2307, micropay("A9", "0", "x"), key, nil), "[-3005]"},
		{"QR NOTIFY_URL over 50", c.signed(2306, withField(qr("B1", "1"), "NOTIFY_URL", "http://till.example/"+strings.Repeat("n", 31)), key, nil), "[-1001] 参数错误 NOTIFY_URL"},
		{"LIMIT_PAY on 1027", c.signed(1027, withField(qr("B2", "1"), "LIMIT_PAY", "1"), key, nil), "[-1001] 参数错误 不支持的字段 LIMIT_PAY"},
		{"LIMIT_PAY on 2306", c.signed(2306, withField(qr("B3", "1"), "LIMIT_PAY", "1"), key, nil), ""},
		{"query RANDSTR string(15)", c.signed(2310, map[string]string{"MERORDERID": "A1", "RANDSTR": "1234567890123456"}, key, nil), "[-1001] 参数错误 RANDSTR"},
		{"query unknown", c.signed(2310, map[string]string{"MERORDERID": "NOPE", "RANDSTR": "r"}, key, nil), "[-2002] 没有该订单"},
		{"unquoted number", []byte(`{"CommandID":2307,"SeqID":1,"NodeType":3,"NodeID":"openplat","Version":"1.0.0","MERNO":"001440353999853","TERMNO":"84970001","Body":{"AMT":1,"CODE":"134567890123456789","CUR":"CNY","GOODSNAME":"x","MERORDERID":"C1","NOTIFY_URL":"http:\/\/a\/b","RANDSTR":"r"},"Sign":"` +
			sign(`{"AMT":1,"CODE":"134567890123456789","CUR":"CNY","GOODSNAME":"x","MERORDERID":"C1","NOTIFY_URL":"http:\/\/a\/b","RANDSTR":"r"}`, key, SlashEscaped) + `"}`), "[-1001] 参数错误 AMT 必须为字符串"},
		{"not JSON", []byte("<xml/>"), "消息结构体错误"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.errorMsg(tc.req)
			if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
				t.Errorf("ErrorMsg = %q, want prefix %q", got, tc.want)
			}
		})
	}
}

// TestQQAnswer: 776 is answered by 35094 (§3.2.1), with MERORDERID.
func TestQQAnswer(t *testing.T) {
	_, c := start(t, DemoOptions())
	f := micropay("Q1", "1", "x")
	f["CODE"] = "910123456789012345"
	m := c.send(776, f)
	if m.CommandID != 35094 || m.Body.str("MERORDERID") != "Q1" || m.Body.str("STATUS") != "1" {
		t.Fatalf("answer %+v", m)
	}
}

// TestTruther: the simulator gives every documented answer it lists, and
// moves the truth independently of its words.
func TestTruther(t *testing.T) {
	s, c := start(t, DemoOptions())
	for _, op := range []sim.Op{sim.OpSubmit, sim.OpQuery, sim.OpReverse, sim.OpClose, sim.OpRefund, sim.OpQueryRefund} {
		for _, method := range []string{"micropay", "qr"} {
			list := s.Answers(op, method)
			if len(list) == 0 {
				t.Errorf("%s/%s: no documented answers", op, method)
			}
			for _, a := range list {
				if a.Section == "" || len(a.Truths) == 0 {
					t.Errorf("%s/%s %q: no section or truths", op, method, a.Code)
				}
				if _, neg := negatives[a.Code]; !neg && status(map[string]string{}, a.Code) == nil {
					t.Errorf("%s/%s %q: a code the simulator cannot give", op, method, a.Code)
				}
			}
		}
	}

	// "Busy" (39999 支付失败) to a micropay, and charged anyway.
	s.ScriptAnswer("T1", sim.OpSubmit, sim.Answer{Code: CodeNegPayFailed, Truth: sim.TruthDone})
	m := c.send(2307, micropay("T1", "100", "x"))
	if o, _ := s.Order("T1"); m.CommandID != cmdNegative || o.State != sim.Success {
		t.Fatalf("busy and charged: answer %d, ledger %s", m.CommandID, o.State)
	}

	// A QR order the query calls failed (STATUS 2), then paid before TIME_END.
	if m := c.send(2306, qr("T2", "192")); m.Body.str("URL") == "" {
		t.Fatal("QR created without URL")
	}
	s.ScriptAnswer("T2", sim.OpQuery, sim.Answer{Code: CodeStatus2, Truth: sim.TruthDone})
	m = c.send(2310, map[string]string{"MERORDERID": "T2", "RANDSTR": "r"})
	if o, _ := s.Order("T2"); m.Body.str("STATUS") != "2" || m.Body.str("AMT") != "192" || o.State != sim.Success {
		t.Fatalf("STATUS 2 then paid: STATUS %q AMT %q, ledger %s", m.Body.str("STATUS"), m.Body.str("AMT"), o.State)
	}

	// A refund accepted (受理成功) and then refused: 2313 says 退款失败.
	s.ScriptAnswer("T1", sim.OpRefund, sim.Answer{Code: CodeStatus1, Truth: sim.TruthNotDone})
	m = c.send(2312, map[string]string{"MERORDERID": "T1", "RANDSTR": "r", "REFUND_MERORDERID": "R1", "AMT": "40"})
	if m.Body.str("STATUS") != "1" {
		t.Fatalf("refund answer STATUS %q, want 1 受理成功", m.Body.str("STATUS"))
	}
	m = c.send(2313, map[string]string{"REFUND_MERORDERID": "R1", "RANDSTR": "r"})
	if o, _ := s.Order("T1"); m.Body.str("STATUS") != "2" || o.RefundedAmount() != 0 {
		t.Fatalf("refund query STATUS %q, refunded %d: want 2 退款失败 and nothing refunded", m.Body.str("STATUS"), o.RefundedAmount())
	}

	// An error to a refund, executed anyway.
	s.ScriptAnswer("T1", sim.OpRefund, sim.Answer{Code: CodeNegStructure, Truth: sim.TruthDone})
	m = c.send(2312, map[string]string{"MERORDERID": "T1", "RANDSTR": "r", "REFUND_MERORDERID": "R2", "AMT": "30"})
	if o, _ := s.Order("T1"); m.CommandID != cmdNegative || o.RefundedAmount() != 30 {
		t.Fatalf("error and refunded: answer %d, refunded %d", m.CommandID, o.RefundedAmount())
	}

	// "Processing" N times, then paid.
	s.Script().SetOrder("T3", sim.Behaviour{PayingQueries: 2})
	m = c.send(2307, micropay("T3", "100", "x"))
	for i, want := range []string{"3", "3", "3", "1"} {
		if i > 0 {
			m = c.send(2310, map[string]string{"MERORDERID": "T3", "RANDSTR": "r"})
		}
		if got := m.Body.str("STATUS"); got != want {
			t.Fatalf("call %d: STATUS %q, want %q", i, got, want)
		}
	}
}

// TestNoAnswer: sim.CodeNoAnswer holds the call until the client gives up,
// after moving the truth.
func TestNoAnswer(t *testing.T) {
	o := DemoOptions()
	o.Hold = 50 * time.Millisecond
	s, c := start(t, o)
	s.ScriptAnswer("N1", sim.OpSubmit, sim.Answer{Code: sim.CodeNoAnswer, Truth: sim.TruthDone})
	resp, err := http.Post(c.url, "application/json", bytes.NewReader(c.signed(2307, micropay("N1", "100", "x"), key, nil)))
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) > 0 {
			t.Fatalf("answered %s", b)
		}
	}
	if o, _ := s.Order("N1"); o.State != sim.Success {
		t.Fatalf("ledger %s, want charged", o.State)
	}
}

// TestNotification: §10.8's message, AMT a JSON number, signed over the
// Body as encoded.
func TestNotification(t *testing.T) {
	s, c := start(t, DemoOptions())
	c.send(2307, micropay("P1", "100", "x"))
	_, raw, err := s.Notification("P1", "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := decode(raw)
	if err != nil || m.CommandID != cmdNotify || m.verify(key, SlashEscaped) != nil {
		t.Fatalf("notification %s: %v", raw, err)
	}
	if !strings.Contains(m.Canonical, `"AMT":100,`) || m.Body.str("MERORDERID") != "P1" || m.TermNo != TestTerminalNo {
		t.Errorf("notification body %s", m.Canonical)
	}
	if _, _, err := s.Notification("NONE", ""); err == nil {
		t.Error("notification for an unknown order")
	}
}

// TestRestart: a simulator restarted on the same ledger knows its orders.
func TestRestart(t *testing.T) {
	o := DemoOptions()
	o.LedgerPath = filepath.Join(t.TempDir(), "ledger.json")
	s1, c1 := start(t, o)
	c1.send(2307, micropay("L1", "100", "x"))
	s1.Close()
	_, c2 := start(t, o)
	m := c2.send(2310, map[string]string{"MERORDERID": "L1", "RANDSTR": "r"})
	if m.Body.str("STATUS") != "1" {
		t.Fatalf("after restart STATUS %q", m.Body.str("STATUS"))
	}
}
