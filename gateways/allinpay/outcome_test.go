package allinpay_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allinpay"
)

// platform is a signed fake of the OATS platform for exchanges the
// simulator does not give on its own: each request is answered by answer,
// signed with the platform key, echoing requestNo.
type platform struct {
	mu   sync.Mutex
	sent []allinpay.Fields
	// answer returns the answer's fields (requestNo, signType and the
	// signature are added), or nil for an HTTP 500.
	answer func(req allinpay.Fields) allinpay.Fields
	srv    *httptest.Server
}

func newPlatform(t *testing.T, currency string, answer func(req allinpay.Fields) allinpay.Fields) (*allinpay.Client, *platform) {
	t.Helper()
	key, err := allinpay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	p := &platform{answer: answer}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, err := allinpay.ParseFields(b)
		if err != nil {
			http.Error(w, "bad", 400)
			return
		}
		p.mu.Lock()
		p.sent = append(p.sent, req)
		p.mu.Unlock()
		a := p.answer(req)
		if a == nil {
			w.WriteHeader(500)
			return
		}
		a["requestNo"], a["signType"], a["version"] = req["requestNo"], "RSA2", "V1.0"
		if a["transType"] == "" {
			a["transType"] = req["transType"]
		}
		s, err := allinpay.Sign(key, a)
		if err != nil {
			t.Error(err)
		}
		a[allinpay.SignatureField] = s
		_, _ = io.WriteString(w, a.Encode())
	}))
	t.Cleanup(p.srv.Close)
	o := clientOptions(p.srv.URL+"/gateway/pay/consumeTrans", "https://till.example/notify")
	o.Currency = currency
	o.PollInterval = 20 * time.Millisecond
	c, err := allinpay.New(o, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func (p *platform) commands() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, f := range p.sent {
		out = append(out, f["transType"])
	}
	return out
}

func ok(res string) allinpay.Fields {
	return allinpay.Fields{"returnCode": "0000", "returnMsg": "succeed", "resultCode": res, "resultMsg": "msg " + res, "mchNo": "6666666600003"}
}

func with(f allinpay.Fields, kv ...string) allinpay.Fields {
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return f
}

var hk = func(minor int64) pos.Money { return pos.Money{Minor: minor, Currency: "HKD"} }

// A micropay still waiting for the customer is never "reversed" on the
// strength of a close (§1.5.2.5 offers CLOSE_ORDER for QR orders only):
// the void finds it unpaid, the order is read, and only an order known
// not charged is Succeeded.
func TestReverseMicropayNeverClosed(t *testing.T) {
	ref := gateways.OrderRef{OutTradeNo: "PA20240102000000001", Wallet: pos.WeChatPay, Method: pos.Micropay, Amount: hk(100), SubmittedAt: time.Now()}
	for _, c := range []struct {
		name  string
		query string
		want  gateways.Status
		cmds  string
	}{
		{"still waiting", "P000", gateways.StatusUserPaying, "WXPAY_CANCEL TRANS_QUERY"},
		{"busy", "9996", gateways.StatusUnknown, "WXPAY_CANCEL TRANS_QUERY"},
		{"wallet gave up", "9998", gateways.StatusSucceeded, "WXPAY_CANCEL TRANS_QUERY"},
		{"closed", "0039", gateways.StatusSucceeded, "WXPAY_CANCEL TRANS_QUERY"},
		{"paid meanwhile: voided again", "0000", gateways.StatusSucceeded, "WXPAY_CANCEL TRANS_QUERY WXPAY_CANCEL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			voids := 0
			cl, p := newPlatform(t, "HKD", func(req allinpay.Fields) allinpay.Fields {
				switch req["transType"] {
				case "WXPAY_CANCEL":
					voids++
					if voids == 2 {
						return with(ok("0000"), "outTransNo", req["outTransNo"])
					}
					return with(ok("0026"), "outTransNo", req["outTransNo"])
				case "TRANS_QUERY":
					return with(ok(c.query), "transAmount", "100", "currency", "HKD")
				}
				return with(ok("0000"), "outTransNo", req["outTransNo"])
			})
			res, err := cl.Reverse(context.Background(), ref)
			if err != nil || res.Status != c.want {
				t.Fatalf("Reverse = %+v, %v; want %s", res, err, c.want)
			}
			if got := strings.Join(p.commands(), " "); got != c.cmds {
				t.Errorf("sent %s, want %s (never CLOSE_ORDER for a micropay)", got, c.cmds)
			}
		})
	}
}

// Void and close answers may name the original order (§1.5.2.4 and
// §1.5.2.5 call outTransNo "merchant transaction number" and "customers
// order number"); another number is a Mismatch, never adopted.
func TestVoidAndCloseAnswersNamingTheOriginal(t *testing.T) {
	ref := gateways.OrderRef{OutTradeNo: "PA20240102000000002", Wallet: pos.Alipay, Method: pos.MerchantQR, Amount: hk(100), SubmittedAt: time.Now()}
	for _, echo := range []string{"original", "own", "other"} {
		cl, _ := newPlatform(t, "HKD", func(req allinpay.Fields) allinpay.Fields {
			no := map[string]string{"original": req["oriOutTransNo"], "own": req["outTransNo"], "other": "PA99"}[echo]
			return with(ok("0000"), "outTransNo", no)
		})
		for name, call := range map[string]func(context.Context, gateways.OrderRef) (gateways.Result, error){"void": cl.Reverse, "close": cl.Close} {
			res, err := call(context.Background(), ref)
			if err != nil {
				t.Fatalf("%s echoing %s: %v", name, echo, err)
			}
			if echo == "other" {
				if res.Status != gateways.StatusUnknown || res.Mismatch == "" {
					t.Errorf("%s answer for another order = %+v; want Unknown with Mismatch", name, res)
				}
				continue
			}
			if res.Status != gateways.StatusSucceeded || res.OutTradeNo != ref.OutTradeNo {
				t.Errorf("%s answer echoing the %s number = %+v; want Succeeded about %s", name, echo, res, ref.OutTradeNo)
			}
		}
	}
}

// CLOSE_ORDER only for WeChat Pay and Alipay QR orders; the others are
// read until they expire.
func TestCloseOnlyWhereTheSpecOffersIt(t *testing.T) {
	for _, c := range []struct {
		w      pos.Wallet
		m      pos.Method
		query  string
		want   gateways.Status
		closes bool
	}{
		{pos.WeChatPay, pos.MerchantQR, "", gateways.StatusSucceeded, true},
		{pos.Alipay, pos.MerchantQR, "", gateways.StatusSucceeded, true},
		{pos.UnionPay, pos.MerchantQR, "P000", gateways.StatusUserPaying, false},
		{pos.UnionPay, pos.MerchantQR, "0039", gateways.StatusSucceeded, false},
		{pos.PayNow, pos.MerchantQR, "0000", gateways.StatusFailed, false},
		{pos.WeChatPay, pos.Micropay, "P000", gateways.StatusUserPaying, false},
	} {
		cur := "HKD"
		if c.w == pos.PayNow {
			cur = "SGD"
		}
		cl, p := newPlatform(t, cur, func(req allinpay.Fields) allinpay.Fields {
			if req["transType"] == "TRANS_QUERY" {
				return with(ok(c.query), "transAmount", "100", "currency", cur)
			}
			return with(ok("0000"), "outTransNo", req["outTransNo"])
		})
		res, err := cl.Close(context.Background(), gateways.OrderRef{OutTradeNo: "PA3", Wallet: c.w, Method: c.m, Amount: pos.Money{Minor: 100, Currency: pos.Currency(cur)}})
		if err != nil || res.Status != c.want {
			t.Errorf("Close %s %s = %+v, %v; want %s", c.w, c.m, res, err, c.want)
		}
		closed := strings.Contains(strings.Join(p.commands(), " "), "CLOSE_ORDER")
		if closed != c.closes {
			t.Errorf("Close %s %s sent %v; CLOSE_ORDER wanted: %v", c.w, c.m, p.commands(), c.closes)
		}
		caps := cl.Capabilities()
		if caps.CanClose(c.w) != (c.w == pos.WeChatPay || c.w == pos.Alipay) {
			t.Errorf("CanClose(%s) = %v", c.w, caps.CanClose(c.w))
		}
	}
}

// Refunds answered busy, unknown mistake or abnormal keep holding their
// amount (Unknown); the refund query's processing codes are processing;
// "not found" on the refund's own number is settled by the original and
// the bill, never read as failed.
func TestRefundOutcomes(t *testing.T) {
	order := gateways.OrderRef{OutTradeNo: "PA20240102000000004", Wallet: pos.Alipay, Method: pos.Micropay, Amount: hk(100),
		SubmittedAt: time.Now().Add(-72 * time.Hour)}
	req := gateways.RefundRequest{Order: order, OutRefundNo: "RF20240102000000004", Amount: hk(40)}
	for _, code := range []string{"9999", "9996", "0040", "0022", "0031"} {
		cl, _ := newPlatform(t, "HKD", func(r allinpay.Fields) allinpay.Fields {
			return with(ok(code), "outTransNo", r["outTransNo"], "transAmount", r["transAmount"])
		})
		res, err := cl.Refund(context.Background(), req)
		if err != nil || res.Status != gateways.StatusUnknown {
			t.Errorf("refund answered %s = %+v, %v; want Unknown", code, res, err)
		}
	}
	cl, _ := newPlatform(t, "HKD", func(r allinpay.Fields) allinpay.Fields {
		return with(ok("0000"), "outTransNo", r["outTransNo"], "transAmount", "40", "transNo", "RFD1")
	})
	res, err := cl.Refund(context.Background(), req)
	if err != nil || res.Status != gateways.StatusSucceeded || res.OutRefundNo != req.OutRefundNo || res.RefundAmount != hk(40) || res.OutTradeNo != order.OutTradeNo || res.RefundID != "RFD1" {
		t.Errorf("refund = %+v, %v; want Succeeded naming the refund and its amount", res, err)
	}
	cl, _ = newPlatform(t, "HKD", func(r allinpay.Fields) allinpay.Fields {
		return with(ok("0000"), "outTransNo", r["outTransNo"], "transAmount", "41")
	})
	if res, err := cl.Refund(context.Background(), req); err != nil || res.Mismatch == "" || res.Status != gateways.StatusUnknown {
		t.Errorf("refund answer for another amount = %+v, %v; want Unknown with Mismatch", res, err)
	}

	bill := func(lines string) string {
		return base64.StdEncoding.EncodeToString([]byte(lines + "Summary,20240101,HKD,0,0,0,1,0,0\r\n"))
	}
	withRefund := bill("20240101,6666666600003,Shop,T1," + req.OutRefundNo + ",REFUND,,,,,2024-01-01 12:00:00,HKD,-0.40,0,HKD,-0.40,0,-0.40,0,1," + order.OutTradeNo + ",\r\n")
	without := bill("20240101,6666666600003,Shop,T1,PA1,SALE,,,,,2024-01-01 12:00:00,HKD,1.00,0,HKD,1.00,0,1.00,0,1,,\r\n")
	for _, c := range []struct {
		name      string
		own, orig string // resultCode of TRANS_QUERY by the refund's number, by the original's
		billData  string
		want      gateways.Status
	}{
		{"processing 0034", "0034", "", "", gateways.StatusUserPaying},
		{"processing 0051", "0051", "", "", gateways.StatusUserPaying},
		{"found", "0000", "", "", gateways.StatusSucceeded},
		{"not found, original paid, bill lists it", "0007", "0000", withRefund, gateways.StatusSucceeded},
		{"not found, original paid, not in a bill", "0007", "0000", without, gateways.StatusUnknown},
		{"not found, original partially refunded, no bill", "0025", "0056", "", gateways.StatusUnknown},
		{"not found, original closed", "0007", "0039", "", gateways.StatusFailed},
		{"not found, original unknown", "0007", "0007", "", gateways.StatusFailed},
		{"busy", "9996", "", "", gateways.StatusUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, p := newPlatform(t, "HKD", func(r allinpay.Fields) allinpay.Fields {
				switch {
				case r["transType"] == "DOWNLOAD_CHECK_BILL":
					if c.billData == "" {
						return ok("0035")
					}
					return with(ok("0000"), "billData", c.billData)
				case r["oriOutTransNo"] == req.OutRefundNo:
					return with(ok(c.own), "transAmount", "40", "currency", "HKD")
				default:
					return with(ok(c.orig), "transAmount", "100", "currency", "HKD")
				}
			})
			res, err := cl.QueryRefund(context.Background(), req)
			if err != nil || res.Status != c.want {
				t.Fatalf("QueryRefund = %+v, %v; want %s (sent %v)", res, err, c.want, p.commands())
			}
			if c.want == gateways.StatusSucceeded && res.RefundAmount != hk(40) {
				t.Errorf("RefundAmount = %v, want 0.40 HKD", res.RefundAmount)
			}
		})
	}
}

// Answers name what they are about (Result.OutTradeNo, Amount), and a
// query answer for another amount or merchant is Unknown with Mismatch.
func TestAnswersCheckedAgainstTheOrder(t *testing.T) {
	ref := gateways.OrderRef{OutTradeNo: "PA20240102000000005", Wallet: pos.WeChatPay, Method: pos.Micropay, Amount: hk(100)}
	for _, c := range []struct {
		name     string
		kv       []string
		mismatch bool
	}{
		{"ours", []string{"transAmount", "100", "currency", "HKD"}, false},
		{"another amount", []string{"transAmount", "1", "currency", "HKD"}, true},
		{"another currency", []string{"transAmount", "100", "currency", "CNY"}, true},
		{"another merchant", []string{"transAmount", "100", "currency", "HKD", "mchNo", "999"}, true},
		{"another order", []string{"transAmount", "100", "currency", "HKD", "outTransNo", "PA1"}, true},
		{"damaged amount", []string{"transAmount", "1.00", "currency", "HKD"}, true},
	} {
		cl, _ := newPlatform(t, "HKD", func(allinpay.Fields) allinpay.Fields { return with(ok("0000"), c.kv...) })
		res, err := cl.Query(context.Background(), ref)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := res.Mismatch != ""; got != c.mismatch || (c.mismatch && res.Status != gateways.StatusUnknown) {
			t.Errorf("%s: %+v; want mismatch %v (and then Unknown)", c.name, res, c.mismatch)
		}
		if !c.mismatch && (res.Status != gateways.StatusSucceeded || res.OutTradeNo != ref.OutTradeNo || res.Amount != hk(100)) {
			t.Errorf("%s: %+v; want Succeeded naming the order and its amount", c.name, res)
		}
	}
	// A payment answer for another order is not adopted.
	cl, _ := newPlatform(t, "HKD", func(allinpay.Fields) allinpay.Fields { return with(ok("0000"), "outTransNo", "PA1") })
	res, err := cl.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "PA2", Amount: hk(100), Code: mustCode(t, "134567890123456789")})
	if err != nil || res.Status != gateways.StatusUnknown || res.Mismatch == "" {
		t.Errorf("micropay answer for another order = %+v, %v; want Unknown with Mismatch", res, err)
	}
}

// limitPay only with WeChat Pay and Alipay (§1.5.2.1); PayNow only in SGD,
// its code valid 3 minutes, and that is the till's QR deadline too.
func TestLimitPayAndPayNow(t *testing.T) {
	cl, p := newPlatform(t, "HKD", func(r allinpay.Fields) allinpay.Fields { return with(ok("0000"), "outTransNo", r["outTransNo"]) })
	_ = cl
	o := clientOptions(p.srv.URL, "https://till.example/notify")
	o.LimitPay = "no_credit"
	c, err := allinpay.New(o, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range []string{"134567890123456789", "284567890123456789", "6212345678901234567"} {
		if _, err := c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "PA" + code[:3], Amount: hk(100), Code: mustCode(t, code)}); err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		got := p.sent[i]["limitPay"]
		p.mu.Unlock()
		if want := map[bool]string{true: "no_credit"}[i < 2]; got != want {
			t.Errorf("%s: limitPay %q, want %q", p.sent[i]["transType"], got, want)
		}
	}
	if caps := c.Capabilities(); caps.Supports(pos.MerchantQR, pos.PayNow) {
		t.Error("an HKD merchant offers PayNow")
	}
	if _, err := c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: "PA9", Amount: hk(100), Wallet: pos.PayNow}); !pos.Match(pos.Invalid, err) {
		t.Errorf("PayNow in HKD = %v, want Invalid", err)
	}
	o.Currency = "SGD"
	o.QRTimeout = 5 * time.Minute
	sg, err := allinpay.New(o, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if !sg.Capabilities().Supports(pos.MerchantQR, pos.PayNow) || sg.Timing().QRTimeout != allinpay.PayNowValidity {
		t.Errorf("SGD merchant: caps %+v, QR timeout %s; want PayNow and 3m", sg.Capabilities(), sg.Timing().QRTimeout)
	}
	for _, cur := range []string{"EUR", "JPY", "GBP"} {
		o.Currency = cur
		if _, err := allinpay.New(o, gateways.Env{}); !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), "§1.8.3") {
			t.Errorf("currency %s: %v, want Invalid citing §1.8.3", cur, err)
		}
	}
}

// Notifications for refunds, voids and closes are dispatched by
// transType, not refused.
func TestNotificationsByTransType(t *testing.T) {
	key, err := allinpay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := newPlatform(t, "HKD", func(allinpay.Fields) allinpay.Fields { return nil })
	note := func(kv ...string) gateways.Notification {
		t.Helper()
		f := with(allinpay.Fields{"requestNo": "N1", "version": "V1.0", "accessCode": "20000000", "signType": "RSA2", "mchNo": "6666666600003"}, kv...)
		s, err := allinpay.Sign(key, f)
		if err != nil {
			t.Fatal(err)
		}
		f[allinpay.SignatureField] = s
		n, err := cl.ParseNotification(http.Header{}, []byte(f.Encode()))
		if err != nil {
			t.Fatalf("notification %v refused: %v", kv, err)
		}
		return n
	}
	n := note("transType", "ALIPAY_RETURN", "outTransNo", "RF1", "oriOutTransNo", "PA1", "transAmount", "40", "currency", "HKD", "resultCode", "0000", "transNo", "R9")
	if n.Result.OutRefundNo != "RF1" || n.OutTradeNo != "PA1" || n.Result.RefundAmount != hk(40) || n.Result.Status != gateways.StatusSucceeded || n.Result.RefundID != "R9" {
		t.Errorf("refund notification = %+v", n)
	}
	n = note("transType", "ALIPAY_RETURN", "outTransNo", "RF1", "transAmount", "40", "currency", "HKD", "resultCode", "0034", "transNo", "R9")
	if n.Result.OutRefundNo != "RF1" || n.Result.Status != gateways.StatusUserPaying {
		t.Errorf("refund notification, processing = %+v", n)
	}
	n = note("transType", "WXPAY_CANCEL", "outTransNo", "VPA20240102000000001123456", "resultCode", "0000", "transNo", "V9")
	if n.OutTradeNo != "PA20240102000000001" || n.Result.Status != gateways.StatusUnknown {
		t.Errorf("void notification = %+v; want Unknown about PA20240102000000001", n)
	}
	n = note("transType", "CLOSE_ORDER", "outTransNo", "PA7", "resultCode", "0000")
	if n.OutTradeNo != "PA7" || n.Result.Status != gateways.StatusUnknown {
		t.Errorf("close notification echoing the original = %+v", n)
	}
	n = note("transType", "WXPAY_SCANCODE", "outTransNo", "PA8", "resultCode", "0074", "transAmount", "100", "currency", "HKD")
	if n.Result.Status == gateways.StatusFailed || n.Result.Amount != hk(100) || n.Result.OutTradeNo != "PA8" {
		t.Errorf("payment notification 0074 = %+v; never Failed, amount and order named", n)
	}
	n = note("transType", "WXPAY_SCANCODE", "outTransNo", "PA8", "resultCode", "9996")
	if n.Result.Status != gateways.StatusUnknown {
		t.Errorf("payment notification 9996 = %+v; want Unknown", n)
	}
}

// Bill download: an answer without a bill is an error; quotes in a name
// are data; the date is the platform's (UTC+8).
func TestDownloadBillRules(t *testing.T) {
	var billDate string
	data := ""
	cl, _ := newPlatform(t, "HKD", func(r allinpay.Fields) allinpay.Fields {
		billDate = r["billDate"]
		f := allinpay.Fields{"returnCode": "0000", "returnMsg": "succeed"}
		if data != "" {
			f["billData"] = data
		}
		return f
	})
	day := time.Date(2024, 1, 2, 20, 0, 0, 0, time.UTC)
	if _, err := cl.DownloadBill(context.Background(), day); err == nil {
		t.Error("a bill answer without billData was accepted as an empty day")
	}
	if billDate != "20240103" {
		t.Errorf("billDate for 20:00 UTC on 2 January = %s, want 20240103 (UTC+8)", billDate)
	}
	data = base64.StdEncoding.EncodeToString([]byte("20240103,6666666600003,Joe's \"Best\" Tea,T1,PA1,SALE,,,,,2024-01-03 12:00:00,HKD,1.00,0,HKD,1.00,0,1.00,0,1,,\r\nSummary,20240103,HKD,1.00,0,1.00,1,1.00,0\r\n"))
	b, err := cl.DownloadBill(context.Background(), day)
	if err != nil || len(b.Records) != 1 || !strings.Contains(b.Records[0].MerchantName, `"Best"`) {
		t.Errorf("bill with quotes in a name, no resultCode = %+v, %v", b, err)
	}
}

// A raw '+' in a form-encoded signature (a body that was not
// percent-encoded) still verifies; the platform key may be bare base64.
func TestSignatureWithRawPlusAndBareKey(t *testing.T) {
	key, err := allinpay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	var body string
	for i := 0; ; i++ {
		f := allinpay.Fields{"requestNo": "N" + itoa(i), "transType": "WXPAY_SCANCODE", "mchNo": "6666666600003", "outTransNo": "PA1", "resultCode": "0000", "transAmount": "1", "currency": "HKD"}
		s, _ := allinpay.Sign(key, f)
		if strings.Contains(s, "+") {
			f[allinpay.SignatureField] = s
			body = strings.ReplaceAll(f.Encode(), "%2B", "+")
			break
		}
	}
	cl, _ := newPlatform(t, "HKD", func(allinpay.Fields) allinpay.Fields { return nil })
	if _, err := cl.ParseNotification(http.Header{}, []byte(body)); err != nil {
		t.Errorf("a signature with a raw '+': %v", err)
	}
	b, _ := os.ReadFile(keySet.PlatformPublicKeyFile)
	blk, _ := pem.Decode(b)
	bare := filepath.Join(t.TempDir(), "platform.b64")
	if err := os.WriteFile(bare, []byte(base64.StdEncoding.EncodeToString(blk.Bytes)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := allinpay.LoadPublicKey(bare); err != nil {
		t.Errorf("bare base64 public key: %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// The simulator's refund notification (its reading of §1.5.2.3's
// mandatory notifyUrl and §1.5.2.6) is read by the adapter as a refund's,
// not refused.
func TestRefundNotificationFromTheSimulator(t *testing.T) {
	bodies := make(chan []byte, 8)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
		_, _ = io.WriteString(w, "SUCCESS")
	}))
	t.Cleanup(rcv.Close)
	p := newPair(t, rcv.URL)
	ctx := context.Background()
	ref := gateways.OrderRef{OutTradeNo: "PA20240102000000009", Wallet: pos.Alipay, Method: pos.Micropay, Amount: hk(100)}
	if res, err := p.client.Micropay(ctx, gateways.MicropayRequest{OutTradeNo: ref.OutTradeNo, Amount: hk(100), Code: mustCode(t, "284567890123456789")}); err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Micropay = %+v, %v", res, err)
	}
	if res, err := p.client.Refund(ctx, gateways.RefundRequest{Order: ref, OutRefundNo: "RF20240102000000009", Amount: hk(30)}); err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Refund = %+v, %v", res, err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case b := <-bodies:
			n, err := p.client.ParseNotification(http.Header{}, b)
			if err != nil {
				t.Fatalf("notification refused: %v", err)
			}
			if n.Result.OutRefundNo == "" {
				continue // the payment's
			}
			if n.Result.OutRefundNo != "RF20240102000000009" || n.OutTradeNo != ref.OutTradeNo || n.Result.RefundAmount != hk(30) || n.Result.Status != gateways.StatusSucceeded {
				t.Errorf("refund notification = %+v", n)
			}
			return
		case <-deadline:
			t.Fatal("no refund notification")
		}
	}
}
