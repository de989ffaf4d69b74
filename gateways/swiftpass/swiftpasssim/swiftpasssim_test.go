package swiftpasssim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways/sim"
)

// The simulator's own signer reproduces the spec's worked examples: the
// same request signed with MD5 (§4.2.1) and SHA256 (§4.2.2) under the
// key 9f72151b... (shared/specs/README.md: both values are real; the
// prose around them is not). The listing's fields, attach included, with
// notify_url https://www.xxxxxx.com/Update; sign_type is signed in the
// SHA256 example and absent from the MD5 one.
func TestSpecVectors(t *testing.T) {
	example := func() Message {
		return Message{
			"mch_id": "7551000001", "out_trade_no": "PRDT4CAVMCIY247-T4CAVMCIY247", "nonce_str": "167755100000104437",
			"service": "pay.weixin.native.intl", "body": "Tickets", "attach": "T4CAVMCIY247", "total_fee": "496650",
			"mch_create_ip": "103.43.162.161", "notify_url": "https://www.xxxxxx.com/Update",
			"time_start": "20230210175644", "time_expire": "20230210180644",
		}
	}
	key := []byte(TestKey.Reveal())
	md5Sig, err := signer{typ: SignMD5, key: key}.sign(example())
	if err != nil || md5Sig != "EF1D35BE0ABD975915196EC515E90CF3" {
		t.Errorf("MD5 = %s, %v; want §4.2.1's EF1D35BE0ABD975915196EC515E90CF3", md5Sig, err)
	}
	m := example()
	m["sign_type"] = SignSHA256
	shaSig, err := signer{typ: SignSHA256, key: key}.sign(m)
	if err != nil || shaSig != "B6C40961FF67604B9F085CD24312B026BF1F60B17B59C5EEA8A42FA55F841BC9" {
		t.Errorf("SHA256 = %s, %v; want §4.2.2's B6C40961...", shaSig, err)
	}
	// The example's sign with its stray space verifies.
	m["sign"] = "B6C40961FF67604B9F085CD24312B026BF1F60B17B59C5EEA8A42FA55F841BC9 "
	if !(signer{typ: SignSHA256, key: key}).verify(m) {
		t.Error("the §4.2.2 example's own sign does not verify")
	}
}

// TestIndependentOfTheAdapter: the simulator is a second reading of the
// spec; it must not import the adapter it tests.
func TestIndependentOfTheAdapter(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/posagent/posagent/gateways/swiftpass" {
			t.Fatal("swiftpasssim imports gateways/swiftpass")
		}
	}
}

func TestParse(t *testing.T) {
	m, err := parse([]byte("<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a><b>2</b></xml>"))
	if err != nil || m["a"] != "x]]>y" || m["b"] != "2" {
		t.Fatalf("parse = %v, %v", m, err)
	}
	back, err := parse(Message{"a": "x]]>y", "b": "é"}.marshal())
	if err != nil || back["a"] != "x]]>y" || back["b"] != "é" {
		t.Fatalf("round trip = %v, %v", back, err)
	}
	for _, bad := range []string{"", "{}", "<xml><a><b>1</b></a></xml>", "<xml><a>1</a><a>2</a></xml>", "<xml><a>1</a></xml><xml/>", "<!DOCTYPE x><xml><a>1</a></xml>", "<xml>t<a>1</a></xml>"} {
		if m, err := parse([]byte(bad)); err == nil {
			t.Errorf("parse(%q) = %v, want an error", bad, m)
		}
	}
}

// client is the test's own minimal merchant: it signs with the
// simulator's signer, which the vectors above anchor.
type client struct {
	t   *testing.T
	url string
	s   signer
}

func newServer(t *testing.T, o Options) (*Server, *client) {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	o = s.Options()
	return s, &client{t: t, url: ts.URL, s: signer{typ: o.SignType, key: []byte(o.Key.Reveal())}}
}

func (c *client) post(m Message) Message {
	c.t.Helper()
	if m["mch_id"] == "" {
		m["mch_id"] = TestMchID
	}
	if m["nonce_str"] == "" {
		m["nonce_str"] = nonce()
	}
	sig, err := c.s.sign(m)
	if err != nil {
		c.t.Fatal(err)
	}
	m["sign"] = sig
	return c.raw(m.marshal())
}

func (c *client) raw(body []byte) Message {
	c.t.Helper()
	resp, err := http.Post(c.url, "text/xml", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	f, err := parse(b)
	if err != nil {
		c.t.Fatalf("answer %q: %v", b, err)
	}
	if f["status"] == "0" && !c.s.verify(f) {
		c.t.Fatalf("answer %v does not verify", f)
	}
	return f
}

func (c *client) create(no, service string, fee int) Message {
	return c.post(Message{"service": service, "out_trade_no": no, "body": "test", "total_fee": itoa(fee),
		"mch_create_ip": "127.0.0.1", "notify_url": "http://127.0.0.1:9/notify"})
}

func (c *client) query(no string) Message {
	return c.post(Message{"service": svcQuery, "out_trade_no": no})
}

func (c *client) closeOrder(no string) Message {
	return c.post(Message{"service": svcClose, "out_trade_no": no})
}

func (c *client) refund(no, rno string, total, fee int) Message {
	return c.post(Message{"service": svcRefund, "out_trade_no": no, "out_refund_no": rno, "total_fee": itoa(total),
		"refund_fee": itoa(fee), "op_user_id": TestMchID})
}

func (c *client) refundQuery(no, rno string) Message {
	return c.post(Message{"service": svcRefundQuery, "out_trade_no": no, "out_refund_no": rno})
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestProtocolErrors: what the platform refuses before any business logic
// is answered with a status other than 0, unsigned.
func TestProtocolErrors(t *testing.T) {
	_, c := newServer(t, DemoOptions())
	wrong := &client{t: t, url: c.url, s: signer{typ: SignMD5, key: []byte("wrong")}}
	cases := map[string]func() Message{
		"not XML":         func() Message { return c.raw([]byte("{}")) },
		"bad signature":   func() Message { return wrong.query("PA1") },
		"missing field":   func() Message { return c.post(Message{"service": svcQuery, "mch_id": TestMchID}) },
		"unknown service": func() Message { return c.post(Message{"service": "pay.weixin.micropay"}) },
		"other merchant":  func() Message { return c.post(Message{"service": svcQuery, "mch_id": "1", "out_trade_no": "PA1"}) },
		"sign_type": func() Message {
			return c.post(Message{"service": svcQuery, "out_trade_no": "PA1", "sign_type": "SHA256"})
		},
		"bad total_fee": func() Message { return c.create("PA9", svcWeChat, 0) },
	}
	for name, call := range cases {
		f := call()
		if f["status"] == "0" || f["message"] == "" || f["sign"] != "" {
			t.Errorf("%s: answer %v, want an unsigned protocol error", name, f)
		}
	}
	if f := c.query("PA1"); f["status"] != "0" || f["err_code"] != "Order not exists" || f["sign"] == "" {
		t.Errorf("unknown order: %v", f)
	}
}

// TestCloseRules: no close within 5 minutes of the order (§7 note 8), no
// close of a UPI order (§6.6.1).
func TestCloseRules(t *testing.T) {
	o := Options{LedgerPath: filepath.Join(t.TempDir(), "ledger.json")} // the spec's 5 minutes
	s, c := newServer(t, o)
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	if f := c.create("PA1", svcWeChat, 2); f["result_code"] != "0" || f["code_url"] == "" {
		t.Fatalf("create = %v", f)
	}
	c.create("PU1", svcUPI, 2)
	now = now.Add(4*time.Minute + 59*time.Second)
	if f := c.closeOrder("PA1"); f["result_code"] == "0" || f["err_code"] != "Order close fail" {
		t.Fatalf("close at 4m59s = %v; want refused as too early", f)
	}
	now = now.Add(time.Second)
	if f := c.closeOrder("PU1"); f["result_code"] == "0" {
		t.Fatalf("close of a UPI order = %v; want refused", f)
	}
	if f := c.closeOrder("PA1"); f["result_code"] != "0" {
		t.Fatalf("close at 5m = %v", f)
	}
	// A UPI order cannot be closed, but it expires: no longer payable.
	c.post(Message{"service": svcUPI, "out_trade_no": "PU2", "body": "test", "total_fee": "192",
		"mch_create_ip": "127.0.0.1", "notify_url": "http://127.0.0.1:9/notify",
		"time_start": now.In(zone).Format(timeLayout), "time_expire": now.Add(time.Minute).In(zone).Format(timeLayout)})
	if f := c.query("PU2"); f["trade_state"] != "USERPAYING" {
		t.Fatalf("UPI order before its expiry = %v", f)
	}
	now = now.Add(time.Minute + time.Second)
	if f := c.query("PU2"); f["trade_state"] != "CLOSED" {
		t.Fatalf("UPI order after its expiry = %v", f)
	}
	if o, _ := s.Order("PU2"); o.Charged() {
		t.Fatal("an expired UPI order was charged")
	}
	if f := c.query("PA1"); f["trade_state"] != "CLOSED" {
		t.Fatalf("query after close = %v", f)
	}
	// The ledger survives a restart.
	s2, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, ok := s2.Ledger().Get("PA1"); !ok || got.State != sim.Closed {
		t.Fatalf("reopened ledger has %+v", got)
	}
}

// TestTruther: every documented answer can be given on its call, and the
// truth moves independently of the words.
func TestTruther(t *testing.T) {
	t.Run("busy and pay anyway", func(t *testing.T) {
		s, c := newServer(t, DemoOptions())
		s.Script().SetOrder("PB1", sim.Behaviour{Scenario: sim.PayingUntilReversed})
		c.create("PB1", svcWeChat, 2)
		s.ScriptAnswer("PB1", sim.OpQuery, sim.Answer{Code: "err_code=SYSTEMERROR", Truth: sim.TruthDone})
		if f := c.query("PB1"); f["err_code"] != "SYSTEMERROR" {
			t.Fatalf("scripted query = %v", f)
		}
		if o, _ := s.Order("PB1"); !o.Charged() {
			t.Fatalf("ledger %+v: want charged behind the busy answer", o)
		}
		if f := c.query("PB1"); f["trade_state"] != "SUCCESS" {
			t.Fatalf("honest query after = %v", f)
		}
	})
	t.Run("PAYERROR then paid", func(t *testing.T) {
		s, c := newServer(t, DemoOptions())
		s.Script().SetOrder("PE1", sim.Behaviour{Scenario: sim.PayingUntilReversed})
		c.create("PE1", svcAlipay, 2)
		s.ScriptAnswer("PE1", sim.OpQuery, sim.Answer{Code: "trade_state=PAYERROR", Truth: sim.TruthPending})
		if f := c.query("PE1"); f["trade_state"] != "PAYERROR" {
			t.Fatalf("scripted query = %v", f)
		}
		if f := c.query("PE1"); f["trade_state"] != "PAYERROR" {
			t.Fatalf("honest query of a failed, still payable order = %v", f)
		}
		s.ScriptAnswer("PE1", sim.OpQuery, sim.Answer{Code: sim.CodeHonest, Truth: sim.TruthDone})
		if f := c.query("PE1"); f["trade_state"] != "SUCCESS" {
			t.Fatalf("the customer paid again: %v", f)
		}
	})
	t.Run("refund PROCESSING twice then FAIL", func(t *testing.T) {
		s, c := newServer(t, DemoOptions())
		c.create("PR1", svcWeChat, 5)
		c.query("PR1")
		s.ScriptAnswer("PR1", sim.OpRefund, sim.Answer{Code: "result_code=0", Truth: sim.TruthPending})
		if f := c.refund("PR1", "RF1", 5, 5); f["result_code"] != "0" || f["out_refund_no"] != "RF1" {
			t.Fatalf("refund = %v", f)
		}
		for range 2 {
			s.ScriptAnswer("PR1", sim.OpQueryRefund, sim.Answer{Code: "refund_status=PROCESSING", Truth: sim.TruthPending})
		}
		s.ScriptAnswer("PR1", sim.OpQueryRefund, sim.Answer{Code: "refund_status=FAIL", Truth: sim.TruthNotDone})
		for _, want := range []string{"PROCESSING", "PROCESSING", "FAIL", "FAIL"} {
			if f := c.refundQuery("PR1", "RF1"); f["refund_status_0"] != want {
				t.Fatalf("refund query = %v, want %s", f, want)
			}
		}
		if o, _ := s.Order("PR1"); o.RefundedAmount() != 0 || o.HeldAmount() != 0 {
			t.Fatalf("ledger %+v: a failed refund moved money", o)
		}
	})
	t.Run("NOTSURE then executed on resend", func(t *testing.T) {
		s, c := newServer(t, DemoOptions())
		c.create("PN1", svcWeChat, 5)
		c.query("PN1")
		s.ScriptAnswer("PN1", sim.OpRefund, sim.Answer{Code: "result_code=0", Truth: sim.TruthPending})
		c.refund("PN1", "RF1", 5, 3)
		s.ScriptAnswer("PN1", sim.OpQueryRefund, sim.Answer{Code: "refund_status=NOTSURE", Truth: sim.TruthPending})
		if f := c.refundQuery("PN1", "RF1"); f["refund_status_0"] != "NOTSURE" {
			t.Fatalf("refund query = %v", f)
		}
		if o, _ := s.Order("PN1"); o.RefundedAmount() != 0 {
			t.Fatal("executed before the resend")
		}
		if f := c.refund("PN1", "RF1", 5, 3); f["result_code"] != "0" {
			t.Fatalf("resend = %v", f)
		}
		if o, _ := s.Order("PN1"); o.RefundedAmount() != 3 || len(o.Refunds) != 1 {
			t.Fatalf("ledger %+v: want the one refund executed on the resend", o)
		}
		if f := c.refundQuery("PN1", "RF1"); f["refund_status_0"] != "SUCCESS" {
			t.Fatalf("refund query after the resend = %v", f)
		}
	})
	t.Run("CHANGE holds the amount", func(t *testing.T) {
		s, c := newServer(t, DemoOptions())
		c.create("PC1", svcWeChat, 5)
		c.query("PC1")
		s.ScriptAnswer("PC1", sim.OpRefund, sim.Answer{Code: "result_code=0", Truth: sim.TruthPending})
		c.refund("PC1", "RF1", 5, 5)
		s.ScriptAnswer("PC1", sim.OpQueryRefund, sim.Answer{Code: "refund_status=CHANGE", Truth: sim.TruthPending})
		for range 2 {
			if f := c.refundQuery("PC1", "RF1"); f["refund_status_0"] != "CHANGE" {
				t.Fatalf("refund query = %v", f)
			}
		}
		if o, _ := s.Order("PC1"); o.HeldAmount() != 5 || o.RefundedAmount() != 0 {
			t.Fatalf("ledger %+v: CHANGE keeps the amount held, not returned", o)
		}
		if f := c.refund("PC1", "RF2", 5, 1); f["result_code"] == "0" {
			t.Fatalf("a second refund of a held amount = %v", f)
		}
	})
	t.Run("every documented answer", func(t *testing.T) {
		s, c := newServer(t, DemoOptions())
		for _, op := range []sim.Op{sim.OpSubmit, sim.OpQuery, sim.OpClose, sim.OpRefund, sim.OpQueryRefund} {
			for i, d := range s.Answers(op, "qr") {
				if d.Section == "" || len(d.Truths) == 0 {
					t.Errorf("%s %q: no section or truths", op, d.Code)
				}
				if d.Code == sim.CodeNoAnswer {
					continue
				}
				no := "PD" + string(op)[:2] + itoa(i)
				if op != sim.OpSubmit {
					c.create(no, svcWeChat, 5)
					c.query(no)
					if op == sim.OpQueryRefund {
						c.refund(no, "RF1", 5, 5)
					}
				}
				s.ScriptAnswer(no, op, sim.Answer{Code: d.Code, Truth: d.Truths[0]})
				var f Message
				switch op {
				case sim.OpSubmit:
					f = c.create(no, svcWeChat, 5)
				case sim.OpQuery:
					f = c.query(no)
				case sim.OpClose:
					f = c.closeOrder(no)
				case sim.OpRefund:
					f = c.refund(no, "RF1", 5, 5)
				case sim.OpQueryRefund:
					f = c.refundQuery(no, "RF1")
				}
				field, value, _ := strings.Cut(d.Code, "=")
				if field == "status" {
					value, _, _ = strings.Cut(value, " ")
				}
				if field == "refund_status" {
					field = "refund_status_0"
				}
				if f[field] != value {
					t.Errorf("%s scripted %q: answer %v", op, d.Code, f)
				}
			}
		}
	})
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
	o.NotifyURL = rcv.URL
	s, c := newServer(t, o)
	c.create("PA2", svcUPI, 1)
	if f := c.query("PA2"); f["trade_state"] != "SUCCESS" || f["trade_type"] != svcUPI {
		t.Fatalf("query = %v", f)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !s.Acked("PA2") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !s.Acked("PA2") || calls.Load() != 3 {
		t.Fatalf("acked %v after %d deliveries, want acked on the 3rd", s.Acked("PA2"), calls.Load())
	}
}
