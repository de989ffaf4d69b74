package allinpaysim

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways/sim"
)

// These tests speak the wire as this simulator reads the spec: raw
// requests signed by the test, answers checked by the test.

var merchant, platformKey = func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	a, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	b, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return a, b
}()

type rig struct {
	srv *Server
	ts  *httptest.Server
	now time.Time
}

func newRig(t *testing.T, mutate func(*Options)) *rig {
	t.Helper()
	o := Options{MerchantKey: &merchant.PublicKey, PlatformKey: platformKey, MinQueryInterval: -1,
		WalletTimeout: time.Hour, Minute: time.Hour}
	if mutate != nil {
		mutate(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{srv: s, now: time.Now()}
	s.SetClock(func() time.Time { return r.now })
	r.ts = httptest.NewServer(s)
	t.Cleanup(func() { r.ts.Close(); s.Close() })
	return r
}

var reqSeq atomic.Int64

// call signs and posts a request, and returns the verified answer.
func (r *rig) call(t *testing.T, kv ...string) message {
	t.Helper()
	req := message{"requestNo": "R" + strconv.FormatInt(time.Now().UnixNano(), 10) + strconv.FormatInt(reqSeq.Add(1), 10),
		"version": "V1.0", "accessCode": DefaultAccessCode, "signType": "RSA2", "mchNo": DefaultMchNo,
		"currency": DefaultCurrency, "notifyUrl": "http://127.0.0.1:9/n"}
	for i := 0; i+1 < len(kv); i += 2 {
		req[kv[i]] = kv[i+1]
	}
	switch tt := req["transType"]; {
	case tt == "TRANS_QUERY" || tt == "DOWNLOAD_CHECK_BILL":
		delete(req, "currency")
		delete(req, "notifyUrl")
		if tt == "DOWNLOAD_CHECK_BILL" {
			delete(req, "mchNo")
		}
	case strings.HasSuffix(tt, "_CANCEL") || tt == "CLOSE_ORDER":
		delete(req, "currency")
	}
	if err := req.sign(merchant); err != nil {
		t.Fatal(err)
	}
	return r.post(t, req.form())
}

func (r *rig) post(t *testing.T, body []byte) message {
	t.Helper()
	resp, err := http.Post(r.ts.URL, "application/x-www-form-urlencoded", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a, err := readMessage(b)
	if err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	if !a.verify(&platformKey.PublicKey) {
		t.Fatalf("answer does not verify: %s", b)
	}
	return a
}

func code(a message) string {
	if a["returnCode"] != "0000" {
		return "ret:" + a["returnCode"]
	}
	return a["resultCode"]
}

func (r *rig) micropay(t *testing.T, no, amount string, kv ...string) message {
	return r.call(t, append([]string{"transType", "WXPAY_MICROPAY", "outTransNo", no, "transAmount", amount, "authCode", "134567890123456789"}, kv...)...)
}

// The platform's admission rules, as this simulator reads them.
func TestRefusals(t *testing.T) {
	r := newRig(t, nil)
	a := r.micropay(t, "PA1", "100")
	if code(a) != "0000" {
		t.Fatalf("micropay = %v", a)
	}
	// The same requestNo again.
	req := message{"requestNo": "FIXED1", "version": "V1.0", "accessCode": DefaultAccessCode, "signType": "RSA2", "mchNo": DefaultMchNo,
		"transType": "TRANS_QUERY", "oriOutTransNo": "PA1"}
	if err := req.sign(merchant); err != nil {
		t.Fatal(err)
	}
	if got := code(r.post(t, req.form())); got != "0000" {
		t.Fatalf("first query = %s", got)
	}
	if got := code(r.post(t, req.form())); got != "ret:0001" {
		t.Errorf("a requestNo used twice = %s, want ret:0001", got)
	}
	for _, c := range []struct {
		name string
		kv   []string
		want string
	}{
		{"tips above the amount", []string{"transType", "WXPAY_MICROPAY", "outTransNo", "PA2", "transAmount", "100", "tipsAmount", "101", "authCode", "134567890123456789"}, "ret:0001"},
		{"limitPay on UnionPay", []string{"transType", "UNIONPAY_MICROPAY", "outTransNo", "PA3", "transAmount", "100", "limitPay", "no_credit", "authCode", "6212345678901234567"}, "ret:0001"},
		{"PayNow in HKD", []string{"transType", "PAYNOW_SCANCODE", "outTransNo", "PA4", "transAmount", "100"}, "ret:0018"},
		{"no PayNow micropay", []string{"transType", "PAYNOW_MICROPAY", "outTransNo", "PA5", "transAmount", "100", "authCode", "1"}, "ret:0018"},
		{"order number too long", []string{"transType", "WXPAY_SCANCODE", "outTransNo", strings.Repeat("1", 33), "transAmount", "100"}, "ret:0001"},
		{"amount not digits", []string{"transType", "WXPAY_SCANCODE", "outTransNo", "PA6", "transAmount", "1.00"}, "ret:0001"},
		{"another currency", []string{"transType", "WXPAY_SCANCODE", "outTransNo", "PA7", "transAmount", "100", "currency", "CNY"}, "ret:0001"},
		{"another merchant", []string{"transType", "WXPAY_SCANCODE", "outTransNo", "PA8", "transAmount", "100", "mchNo", "1"}, "ret:0010"},
		{"no notifyUrl", []string{"transType", "WXPAY_SCANCODE", "outTransNo", "PA9", "transAmount", "100", "notifyUrl", ""}, "ret:0001"},
		{"unknown command", []string{"transType", "QQ_MICROPAY", "outTransNo", "PA10", "transAmount", "100"}, "ret:0018"},
		{"not in the appendix", []string{"transType", "REFUND_ALL", "outTransNo", "PA10", "transAmount", "100"}, "ret:0001"},
	} {
		if got := code(r.call(t, c.kv...)); got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
	// Fields the tables do not list are let through (the spec's own
	// example carries goodsSubject).
	if got := code(r.call(t, "transType", "WXPAY_SCANCODE", "outTransNo", "PA11", "transAmount", "100", "goodsSubject", "coffee")); got != "P000" {
		t.Errorf("an unlisted field = %s, want the QR order created (P000)", got)
	}
	// A bad signature.
	req = message{"requestNo": "X1", "version": "V1.0", "accessCode": DefaultAccessCode, "signType": "RSA2", "mchNo": DefaultMchNo, "transType": "TRANS_QUERY", "oriOutTransNo": "PA1"}
	if err := req.sign(platformKey); err != nil {
		t.Fatal(err)
	}
	if got := code(r.post(t, req.form())); got != "ret:0012" {
		t.Errorf("signed with another key = %s, want ret:0012", got)
	}
}

// What the spec does not offer is never executed: no close of a micropay
// or of a UnionPay or PayNow order, no void of an unpaid order. A
// micropay never confirmed ends when the wallet gives up; a QR order when
// it expires (expireTime Minutes; PayNow at most 3).
func TestNeverExecutesWhatTheSpecDoesNotOffer(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Currency = "SGD"; o.WalletTimeout = time.Minute; o.Minute = time.Second })
	cur := []string{"currency", "SGD"}
	if got := code(r.micropay(t, "PA1", "192", cur...)); got != "P000" {
		t.Fatalf("..92 micropay = %s", got)
	}
	if got := code(r.call(t, "transType", "CLOSE_ORDER", "outTransNo", "C1", "oriOutTransNo", "PA1")); got != "0018" {
		t.Errorf("close of a micropay = %s, want 0018", got)
	}
	if got := code(r.call(t, "transType", "WXPAY_CANCEL", "outTransNo", "V1", "oriOutTransNo", "PA1")); got != "0026" {
		t.Errorf("void of an unpaid micropay = %s, want 0026", got)
	}
	if o, _ := r.srv.Order("PA1"); o.State != sim.UserPaying {
		t.Errorf("after close and void the micropay is %s, want still USERPAYING", o.State)
	}
	r.now = r.now.Add(time.Minute)
	if got := code(r.call(t, "transType", "TRANS_QUERY", "oriOutTransNo", "PA1")); got != "9998" {
		t.Errorf("after the wallet gave up, query = %s, want 9998", got)
	}
	for _, tt := range []string{"UNIONPAY_SCANCODE", "PAYNOW_SCANCODE"} {
		no := "Q" + tt[:2]
		a := r.call(t, append([]string{"transType", tt, "outTransNo", no, "transAmount", "192", "expireTime", "5"}, cur...)...)
		if code(a) != "P000" || a["codeUrl"] == "" {
			t.Fatalf("%s = %v", tt, a)
		}
		if got := code(r.call(t, "transType", "CLOSE_ORDER", "outTransNo", "C"+no, "oriOutTransNo", no)); got != "0018" {
			t.Errorf("close of a %s order = %s, want 0018", tt, got)
		}
	}
	r.now = r.now.Add(3 * time.Second) // PayNow: 3 minutes whatever expireTime says
	if got := code(r.call(t, "transType", "TRANS_QUERY", "oriOutTransNo", "QPA")); got != "0039" {
		t.Errorf("PayNow after 3 minutes = %s, want 0039 (expired)", got)
	}
	if got := code(r.call(t, "transType", "TRANS_QUERY", "oriOutTransNo", "QUN")); got != "P000" {
		t.Errorf("UnionPay after 3 of its 5 minutes = %s, want P000", got)
	}
	r.now = r.now.Add(2 * time.Second)
	if got := code(r.call(t, "transType", "TRANS_QUERY", "oriOutTransNo", "QUN")); got != "0039" {
		t.Errorf("UnionPay after 5 minutes = %s, want 0039 (expired)", got)
	}
	// A WeChat QR order is closed.
	r.call(t, append([]string{"transType", "WXPAY_SCANCODE", "outTransNo", "QWX", "transAmount", "192"}, cur...)...)
	if got := code(r.call(t, "transType", "CLOSE_ORDER", "outTransNo", "CQWX", "oriOutTransNo", "QWX")); got != "0000" {
		t.Errorf("close of a WeChat QR order = %s, want 0000", got)
	}
}

// §1.5.2.2: at least MinQueryInterval between two queries of one order.
func TestQueryInterval(t *testing.T) {
	r := newRig(t, func(o *Options) { o.MinQueryInterval = 10 * time.Second })
	r.micropay(t, "PA1", "100")
	if got := code(r.call(t, "transType", "TRANS_QUERY", "oriOutTransNo", "PA1")); got != "0000" {
		t.Fatalf("query = %s", got)
	}
	r.now = r.now.Add(9 * time.Second)
	if got := code(r.call(t, "transType", "TRANS_QUERY", "oriOutTransNo", "PA1")); got != "9996" {
		t.Errorf("query 9 s later = %s, want 9996", got)
	}
	r.now = r.now.Add(10 * time.Second)
	if got := code(r.call(t, "transType", "TRANS_QUERY", "oriOutTransNo", "PA1")); got != "0000" {
		t.Errorf("query 10 s after the last counted one = %s, want 0000", got)
	}
}

// Both wire forms: a JSON answer is a flat object, transAmount a number,
// and its signature is over the same text.
func TestJSONAnswers(t *testing.T) {
	r := newRig(t, func(o *Options) { o.JSON = true })
	a := r.micropay(t, "PA1", "1250")
	if code(a) != "0000" || a["transNo"] == "" {
		t.Fatalf("micropay = %v", a)
	}
	a = r.call(t, "transType", "TRANS_QUERY", "oriOutTransNo", "PA1")
	var raw map[string]any
	b := a.json()
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["transAmount"].(float64); !ok {
		t.Errorf("transAmount in JSON is %T, want a number: %s", raw["transAmount"], b)
	}
	// A JSON request is read too.
	req := message{"requestNo": "J1", "version": "V1.0", "accessCode": DefaultAccessCode, "signType": "RSA2", "mchNo": DefaultMchNo, "transType": "TRANS_QUERY", "oriOutTransNo": "PA1"}
	if err := req.sign(merchant); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(time.Minute)
	if got := code(r.post(t, req.json())); got != "0000" {
		t.Errorf("JSON request = %s", got)
	}
}

// Any documented answer on any call, with the truth moved independently.
func TestScriptedAnswers(t *testing.T) {
	r := newRig(t, nil)
	for _, op := range []sim.Op{sim.OpSubmit, sim.OpQuery, sim.OpReverse, sim.OpClose, sim.OpRefund, sim.OpQueryRefund} {
		list := r.srv.Answers(op, "micropay")
		if len(list) == 0 {
			t.Errorf("no documented answers for %s", op)
		}
		for _, d := range list {
			code := strings.TrimPrefix(d.Code, returnPrefix)
			if _, ok := resultTable[code]; !ok && d.Code != sim.CodeNoAnswer {
				t.Errorf("%s: answer %q is not a spec code", op, d.Code)
			}
			if d.Section == "" || len(d.Truths) == 0 {
				t.Errorf("%s %s: no section or truths", op, d.Code)
			}
		}
	}
	// "Busy" on the submit, and the customer is charged anyway.
	r.srv.ScriptAnswer("PA1", sim.OpSubmit, sim.Answer{Code: "9996", Truth: sim.TruthDone})
	if got := code(r.micropay(t, "PA1", "100")); got != "9996" {
		t.Errorf("scripted submit = %s, want 9996", got)
	}
	if o, _ := r.srv.Order("PA1"); o.State != sim.Success {
		t.Errorf("after busy-but-done the order is %s, want SUCCESS", o.State)
	}
	// "Unknown mistake" to a refund, executed anyway.
	r.srv.ScriptAnswer("PA1", sim.OpRefund, sim.Answer{Code: "9999", Truth: sim.TruthDone})
	if got := code(r.call(t, "transType", "WXPAY_RETURN", "outTransNo", "RF1", "oriOutTransNo", "PA1", "transAmount", "40")); got != "9999" {
		t.Errorf("scripted refund = %s, want 9999", got)
	}
	if o, _ := r.srv.Order("PA1"); o.RefundedAmount() != 40 {
		t.Errorf("refunded %d, want 40 executed", o.RefundedAmount())
	}
	// Refused at admission, and nothing charged.
	r.srv.ScriptAnswer("PA2", sim.OpSubmit, sim.Answer{Code: returnPrefix + "0012", Truth: sim.TruthNotDone})
	if got := code(r.micropay(t, "PA2", "100")); got != "ret:0012" {
		t.Errorf("scripted refusal = %s", got)
	}
	if o, _ := r.srv.Order("PA2"); o.State == sim.Success {
		t.Error("a refused order was charged")
	}
}

// With SameDayBill the day still running is served (provisional: what
// moved so far); tomorrow's is still refused, and without the option
// today's is 0035 (TestBillFromLedger).
func TestSameDayBill(t *testing.T) {
	r := newRig(t, func(o *Options) { o.SameDayBill = true })
	r.micropay(t, "PA1", "1250")
	day := r.now.In(zone).Format("20060102")
	a := r.call(t, "transType", "DOWNLOAD_CHECK_BILL", "billDate", day)
	data, err := base64.StdEncoding.DecodeString(a["billData"])
	if err != nil || code(a) != "0000" || !strings.Contains(string(data), ",PA1,SALE,") {
		t.Fatalf("today's bill = %v, %v\n%s", a, err, data)
	}
	r.micropay(t, "PA2", "300")
	a = r.call(t, "transType", "DOWNLOAD_CHECK_BILL", "billDate", day)
	data, _ = base64.StdEncoding.DecodeString(a["billData"])
	if !strings.Contains(string(data), ",PA2,SALE,") {
		t.Errorf("the provisional bill does not grow with the day:\n%s", data)
	}
	tomorrow := r.now.Add(24 * time.Hour).In(zone).Format("20060102")
	if got := code(r.call(t, "transType", "DOWNLOAD_CHECK_BILL", "billDate", tomorrow)); got != "0035" {
		t.Errorf("tomorrow's bill = %s, want 0035", got)
	}
	r.srv.SetSameDayBills(false)
	if got := code(r.call(t, "transType", "DOWNLOAD_CHECK_BILL", "billDate", day)); got != "0035" {
		t.Errorf("today's bill with same-day bills off = %s, want 0035", got)
	}
}

// DOWNLOAD_CHECK_BILL from the ledger, from the next day.
func TestBillFromLedger(t *testing.T) {
	r := newRig(t, nil)
	r.micropay(t, "PA1", "1250")
	r.call(t, "transType", "WXPAY_RETURN", "outTransNo", "RF1", "oriOutTransNo", "PA1", "transAmount", "250")
	day := r.now.In(zone).Format("20060102")
	if got := code(r.call(t, "transType", "DOWNLOAD_CHECK_BILL", "billDate", day)); got != "0035" {
		t.Errorf("today's bill = %s, want 0035", got)
	}
	r.now = r.now.Add(24 * time.Hour)
	a := r.call(t, "transType", "DOWNLOAD_CHECK_BILL", "billDate", day)
	data, err := base64.StdEncoding.DecodeString(a["billData"])
	if err != nil || code(a) != "0000" {
		t.Fatalf("bill = %v, %v", a, err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\r\n")
	if len(lines) != 3 || !strings.Contains(lines[0], ",PA1,SALE,") || !strings.Contains(lines[1], ",RF1,REFUND,") ||
		!strings.Contains(lines[1], "-2.50") || !strings.HasPrefix(lines[2], "Summary,"+day+",HKD,10.00,") {
		t.Errorf("bill:\n%s", data)
	}
	for _, l := range lines[:2] {
		if n := len(strings.Split(l, ",")); n != 22 {
			t.Errorf("detail line has %d fields, want 22: %s", n, l)
		}
	}
}

// TestVoidOfTheDaysSale: §1.5.2.4 as this simulator executes it. A sale
// paid today is voided (0000; the ledger takes the money back), a second
// void says "already voided" (0029) and moves nothing; a sale with a
// refund is not voided (0031), nor is one of an earlier day (0032), and
// both stay charged.
func TestVoidOfTheDaysSale(t *testing.T) {
	r := newRig(t, nil)
	for _, no := range []string{"PA1", "PA2", "PA3"} {
		if got := code(r.micropay(t, no, "1000")); got != "0000" {
			t.Fatalf("micropay %s = %s", no, got)
		}
	}
	if got := code(r.call(t, "transType", "WXPAY_CANCEL", "outTransNo", "RF1", "oriOutTransNo", "PA1")); got != "0000" {
		t.Fatalf("void of today's sale = %s, want 0000", got)
	}
	if o, _ := r.srv.Order("PA1"); o.State != sim.Revoked {
		t.Errorf("voided sale is %s, want %s", o.State, sim.Revoked)
	}
	if got := code(r.call(t, "transType", "WXPAY_CANCEL", "outTransNo", "RF2", "oriOutTransNo", "PA1")); got != "0029" {
		t.Errorf("second void = %s, want 0029", got)
	}
	if got := code(r.call(t, "transType", "WXPAY_RETURN", "outTransNo", "RF3", "oriOutTransNo", "PA2", "transAmount", "100", "currency", DefaultCurrency)); got != "0000" {
		t.Fatalf("refund = %s", got)
	}
	if got := code(r.call(t, "transType", "WXPAY_CANCEL", "outTransNo", "RF4", "oriOutTransNo", "PA2")); got != "0031" {
		t.Errorf("void of a refunded sale = %s, want 0031", got)
	}
	r.now = r.now.Add(24 * time.Hour)
	if got := code(r.call(t, "transType", "WXPAY_CANCEL", "outTransNo", "RF5", "oriOutTransNo", "PA3")); got != "0032" {
		t.Errorf("void of yesterday's sale = %s, want 0032", got)
	}
	for _, no := range []string{"PA2", "PA3"} {
		if o, _ := r.srv.Order(no); !o.Charged() {
			t.Errorf("%s is %s after a refused void, want still charged", no, o.State)
		}
	}
}

// notes is a notification receiver: every body posted, answered SUCCESS.
type notes struct {
	mu   sync.Mutex
	got  []message
	errs []string
}

func (n *notes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	m, err := readMessage(b)
	n.mu.Lock()
	if err != nil {
		n.errs = append(n.errs, err.Error())
	} else {
		n.got = append(n.got, m)
	}
	n.mu.Unlock()
	_, _ = w.Write([]byte("SUCCESS"))
}

// refunds are the notifications of transType *_RETURN received so far.
func (n *notes) refunds() []message {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []message
	for _, m := range n.got {
		if strings.HasSuffix(m["transType"], "_RETURN") {
			out = append(out, m)
		}
	}
	return out
}

// TestRefundNotification: a refund carries a mandatory notifyUrl
// (§1.5.2.3), so an executed refund is notified (§1.5.2.6's message, with
// the refund's transType): signed with the platform key, naming the
// refund by its outTransNo and the order by oriOutTransNo. Scripted on
// sim.OpRefund it is sent twice (NotifyDuplicate) or before the refund's
// answer (NotifyBeforeResponse); a refund the platform refuses is not
// notified.
func TestRefundNotification(t *testing.T) {
	rcv := &notes{}
	nts := httptest.NewServer(rcv)
	t.Cleanup(nts.Close)
	r := newRig(t, func(o *Options) { o.NotifyURL = nts.URL })
	refund := func(no, rno, amount string) string {
		return code(r.call(t, "transType", "WXPAY_RETURN", "outTransNo", rno, "oriOutTransNo", no, "transAmount", amount, "currency", DefaultCurrency))
	}
	// wait is bounded by the resend schedule, not asserted on time.
	wait := func(n int) []message {
		deadline := time.Now().Add(10 * time.Second)
		for len(rcv.refunds()) < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		return rcv.refunds()
	}
	for _, no := range []string{"PA1", "PA2", "PA3"} {
		if got := code(r.micropay(t, no, "1000")); got != "0000" {
			t.Fatalf("micropay %s = %s", no, got)
		}
	}

	// A refund refused (more than was paid) owes nothing; the one after
	// it is the first refund notification.
	if got := refund("PA1", "RF0", "5000"); got != "0027" {
		t.Fatalf("refund over the amount = %s, want 0027", got)
	}
	if got := refund("PA1", "RF1", "400"); got != "0000" {
		t.Fatalf("refund = %s", got)
	}
	got := wait(1)
	if len(got) != 1 {
		t.Fatalf("%d refund notifications, want 1 (errors %v)", len(got), rcv.errs)
	}
	n := got[0]
	if !n.verify(&platformKey.PublicKey) {
		t.Errorf("refund notification does not verify with the platform key: %v", n)
	}
	o, _ := r.srv.Order("PA1")
	want := map[string]string{"transType": "WXPAY_RETURN", "outTransNo": "RF1", "oriOutTransNo": "PA1",
		"transAmount": "400", "currency": DefaultCurrency, "resultCode": "0000", "mchNo": DefaultMchNo,
		"accessCode": DefaultAccessCode, "signType": "RSA2", "version": "V1.0"}
	for k, v := range want {
		if n[k] != v {
			t.Errorf("refund notification %s = %q, want %q", k, n[k], v)
		}
	}
	if len(o.Refunds) != 1 || n["transNo"] != o.Refunds[0].RefundID || n["transNo"] == "" {
		t.Errorf("refund notification transNo = %q, want the ledger's refund id (%v)", n["transNo"], o.Refunds)
	}
	if n.verify(&merchant.PublicKey) {
		t.Error("refund notification verifies with the merchant's key, not only the platform's")
	}
	// The receiver records the body before its SUCCESS reaches the
	// simulator, which records the ack after: wait for it, bounded.
	for deadline := time.Now().Add(10 * time.Second); !r.srv.Acked("RF1") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !r.srv.Acked("RF1") {
		t.Error("the acknowledged refund notification is not recorded as acked")
	}

	// Duplicate: the same notification twice.
	r.srv.Script().SetOrder("PA2", sim.Behaviour{Fault: sim.NotifyDuplicate, FaultOn: []sim.Op{sim.OpRefund}, Times: 1})
	if got := refund("PA2", "RF2", "100"); got != "0000" {
		t.Fatalf("refund = %s", got)
	}
	got = wait(3)
	if len(got) != 3 || got[1]["outTransNo"] != "RF2" || got[2]["outTransNo"] != "RF2" || got[1]["transNo"] != got[2]["transNo"] {
		t.Errorf("duplicate: refund notifications %v, want RF2's twice", got)
	}

	// Before the response: delivered (and acknowledged) before the
	// refund's answer is written, so it is here when the call returns.
	r.srv.Script().SetOrder("PA3", sim.Behaviour{Fault: sim.NotifyBeforeResponse, FaultOn: []sim.Op{sim.OpRefund}, Times: 1})
	if got := refund("PA3", "RF3", "100"); got != "0000" {
		t.Fatalf("refund = %s", got)
	}
	got = rcv.refunds()
	if len(got) != 4 || got[3]["outTransNo"] != "RF3" || !got[3].verify(&platformKey.PublicKey) {
		t.Errorf("before the response: refund notifications when the answer came %v, want RF3's signed one last", got)
	}
}

// cancels are the notifications of a void (*_CANCEL) or close
// (CLOSE_ORDER) received so far.
func (n *notes) cancels() []message {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []message
	for _, m := range n.got {
		if strings.HasSuffix(m["transType"], "_CANCEL") || m["transType"] == "CLOSE_ORDER" {
			out = append(out, m)
		}
	}
	return out
}

// TestVoidAndCloseNotification: a void (§1.5.2.4) and a close (§1.5.2.5)
// carry a mandatory notifyUrl, so an executed one is notified (§1.5.2.6's
// message with the request's transType): signed with the platform key,
// naming the void or close by its outTransNo and the order by
// oriOutTransNo, with the order's amount and platform number. A void or
// close the platform refuses is not notified. Scripted on the op (the
// void's sim.OpReverse, sim.OpClose) it is sent twice or before the
// answer.
func TestVoidAndCloseNotification(t *testing.T) {
	rcv := &notes{}
	nts := httptest.NewServer(rcv)
	t.Cleanup(nts.Close)
	r := newRig(t, func(o *Options) { o.NotifyURL = nts.URL })
	cancel := func(tt, no, cno string) string {
		return code(r.call(t, "transType", tt, "outTransNo", cno, "oriOutTransNo", no))
	}
	wait := func(n int) []message {
		deadline := time.Now().Add(10 * time.Second)
		for len(rcv.cancels()) < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		return rcv.cancels()
	}
	for _, no := range []string{"PA1", "PA2", "PA3"} {
		if got := code(r.micropay(t, no, "1000")); got != "0000" {
			t.Fatalf("micropay %s = %s", no, got)
		}
	}
	for _, no := range []string{"QA1", "QA2", "QA3"} {
		if got := code(r.call(t, "transType", "WXPAY_SCANCODE", "outTransNo", no, "transAmount", "700")); got != "P000" {
			t.Fatalf("scancode %s = %s", no, got)
		}
	}
	pa1, _ := r.srv.Order("PA1")
	qa1, _ := r.srv.Order("QA1")

	// Refused: a close of a paid micropay (0018), the void of an unpaid
	// order (0026); then the first executed void.
	if got := cancel("CLOSE_ORDER", "PA1", "CX1"); got != "0018" {
		t.Fatalf("close of a micropay = %s, want 0018", got)
	}
	if got := cancel("WXPAY_CANCEL", "QA1", "VX1"); got != "0026" {
		t.Fatalf("void of an unpaid order = %s, want 0026", got)
	}
	if got := cancel("WXPAY_CANCEL", "PA1", "V1"); got != "0000" {
		t.Fatalf("void = %s", got)
	}
	got := wait(1)
	if len(got) != 1 {
		t.Fatalf("%d void/close notifications, want 1 (errors %v)", len(got), rcv.errs)
	}
	check := func(n message, want map[string]string) {
		t.Helper()
		if !n.verify(&platformKey.PublicKey) {
			t.Errorf("notification does not verify with the platform key: %v", n)
		}
		if n.verify(&merchant.PublicKey) {
			t.Error("notification verifies with the merchant's key, not only the platform's")
		}
		for k, v := range map[string]string{"resultCode": "0000", "mchNo": DefaultMchNo, "currency": DefaultCurrency,
			"accessCode": DefaultAccessCode, "signType": "RSA2", "version": "V1.0"} {
			if _, ok := want[k]; !ok {
				want[k] = v
			}
		}
		for k, v := range want {
			if n[k] != v {
				t.Errorf("%s notification %s = %q, want %q", want["transType"], k, n[k], v)
			}
		}
	}
	check(got[0], map[string]string{"transType": "WXPAY_CANCEL", "outTransNo": "V1", "oriOutTransNo": "PA1",
		"transAmount": "1000", "transNo": pa1.TransactionID, "bankTradeNo": "4200" + pa1.TransactionID})
	for deadline := time.Now().Add(10 * time.Second); !r.srv.Acked("V1") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !r.srv.Acked("V1") {
		t.Error("the acknowledged void notification is not recorded as acked")
	}

	// A close of an unpaid QR order; a second close is refused (0039).
	if got := cancel("CLOSE_ORDER", "QA1", "C1"); got != "0000" {
		t.Fatalf("close = %s", got)
	}
	got = wait(2)
	if len(got) != 2 {
		t.Fatalf("%d void/close notifications, want 2", len(got))
	}
	check(got[1], map[string]string{"transType": "CLOSE_ORDER", "outTransNo": "C1", "oriOutTransNo": "QA1",
		"transAmount": "700", "transNo": qa1.TransactionID, "bankTradeNo": ""})
	if got := cancel("CLOSE_ORDER", "QA1", "C1B"); got != "0039" {
		t.Fatalf("close of a closed order = %s, want 0039", got)
	}

	// Duplicate: the void's notification twice, and the close's.
	r.srv.Script().SetOrder("PA2", sim.Behaviour{Fault: sim.NotifyDuplicate, FaultOn: []sim.Op{sim.OpReverse}, Times: 1})
	if got := cancel("WXPAY_CANCEL", "PA2", "V2"); got != "0000" {
		t.Fatalf("void = %s", got)
	}
	r.srv.Script().SetOrder("QA2", sim.Behaviour{Fault: sim.NotifyDuplicate, FaultOn: []sim.Op{sim.OpClose}, Times: 1})
	if got := cancel("CLOSE_ORDER", "QA2", "C2"); got != "0000" {
		t.Fatalf("close = %s", got)
	}
	got = wait(6)
	count := map[string]int{}
	for _, m := range got {
		count[m["outTransNo"]]++
	}
	// A refused close owes nothing: C1B is not among them.
	if len(got) != 6 || count["V2"] != 2 || count["C2"] != 2 || count["C1B"] != 0 || count["CX1"] != 0 || count["VX1"] != 0 {
		t.Errorf("duplicate: notifications by outTransNo %v, want V2's and C2's twice, none for the refused ones", count)
	}

	// Before the response: here when the answer comes.
	r.srv.Script().SetOrder("PA3", sim.Behaviour{Fault: sim.NotifyBeforeResponse, FaultOn: []sim.Op{sim.OpReverse}, Times: 1})
	if got := cancel("WXPAY_CANCEL", "PA3", "V3"); got != "0000" {
		t.Fatalf("void = %s", got)
	}
	got = rcv.cancels()
	if len(got) != 7 || got[6]["outTransNo"] != "V3" || !got[6].verify(&platformKey.PublicKey) {
		t.Errorf("before the response: notifications when the void's answer came %v, want V3's signed one last", got)
	}
	r.srv.Script().SetOrder("QA3", sim.Behaviour{Fault: sim.NotifyBeforeResponse, FaultOn: []sim.Op{sim.OpClose}, Times: 1})
	if got := cancel("CLOSE_ORDER", "QA3", "C3"); got != "0000" {
		t.Fatalf("close = %s", got)
	}
	got = rcv.cancels()
	if len(got) != 8 || got[7]["outTransNo"] != "C3" {
		t.Errorf("before the response: notifications when the close's answer came %v, want C3's last", got)
	}
}
