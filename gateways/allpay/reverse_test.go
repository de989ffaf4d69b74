package allpay_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/allpay/allpaysim"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
)

// The contract suite exercises Reverse on micropay orders only; AllPay
// takes merchant QR only, so these are its reverse cases (VOID of a QR
// order), each ending in what the ledger and an inquiry say.

func qrOrder(t *testing.T, c *allpay.Client, minor int64) gateways.OrderRef {
	t.Helper()
	no := gatewaytest.NewOutTradeNo()
	amt := pos.Money{Minor: minor, Currency: allpay.DefaultCurrency}
	res, err := c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: no, Amount: amt, Wallet: pos.WeChatPay})
	if err != nil || res.Status != gateways.StatusUserPaying || res.CodeURL == "" {
		t.Fatalf("CreateQR = %+v, %v", res, err)
	}
	return gateways.OrderRef{OutTradeNo: no, Wallet: pos.WeChatPay, Method: pos.MerchantQR, Amount: amt, TransactionID: res.TransactionID}
}

func query(t *testing.T, c *allpay.Client, ref gateways.OrderRef) (gateways.Result, error) {
	t.Helper()
	time.Sleep(25 * time.Millisecond) // the simulator's MinQueryInterval
	return c.Query(context.Background(), ref)
}

func wantStatus(t *testing.T, what string, res gateways.Result, err error, want gateways.Status) {
	t.Helper()
	if err != nil || res.Status != want {
		t.Fatalf("%s = %s (%s %q), %v; want %s", what, res.Status, res.Code, res.Reason, err, want)
	}
}

// voidPair is a client and simulator pair whose client sends VOID for QR
// orders (void_qr: the acquirer confirmed it) and whose simulator executes
// it (or, with simVoid false, refuses it as §4.8 reads: cards only).
func voidPair(t *testing.T, simVoid bool) (*allpay.Client, controller) {
	t.Helper()
	return newPairWith(t, "", func(so *allpaysim.Options) { so.VoidQR = simVoid }, func(o *allpay.Options) { o.VoidQR = true })
}

func TestReverseQR(t *testing.T) {
	ctx := context.Background()
	// Without void_qr (the default) no VOID is sent: the order is read.
	t.Run("DefaultSendsNoVoid", func(t *testing.T) {
		t.Parallel()
		c, ctl := newPair(t, "", nil)
		if c.Capabilities().Reverse {
			t.Fatal("Capabilities declare Reverse without void_qr")
		}
		ref := qrOrder(t, c, 192)
		res, err := query(t, c, ref)
		wantStatus(t, "Query", res, err, gateways.StatusUserPaying)
		time.Sleep(25 * time.Millisecond)
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse of an open order", res, err, gateways.StatusUserPaying)
		if o, _ := ctl.srv.Ledger().Get(ref.OutTradeNo); o.State == sim.Revoked {
			t.Errorf("ledger state %s: a VOID was executed", o.State)
		}
		// Paid late: the reverse reports "not reversed", so the flows
		// query, find it paid and keep it (flagged for refund).
		paid := qrOrder(t, c, 100)
		res, err = query(t, c, paid)
		wantStatus(t, "Query", res, err, gateways.StatusSucceeded)
		time.Sleep(25 * time.Millisecond)
		res, err = c.Reverse(ctx, paid)
		wantStatus(t, "Reverse of a paid order", res, err, gateways.StatusFailed)
		if o, _ := ctl.srv.Ledger().Get(paid.OutTradeNo); o.State != sim.Success {
			t.Errorf("ledger state %s, want %s", o.State, sim.Success)
		}
	})
	t.Run("VoidRefusedForQR", func(t *testing.T) {
		t.Parallel()
		c, ctl := voidPair(t, false)
		ref := qrOrder(t, c, 192)
		res, err := c.Reverse(ctx, ref)
		wantStatus(t, "Reverse after a refused VOID (P4)", res, err, gateways.StatusUserPaying)
		if o, _ := ctl.srv.Ledger().Get(ref.OutTradeNo); o.State == sim.Revoked {
			t.Errorf("ledger state %s", o.State)
		}
	})
	t.Run("Unpaid", func(t *testing.T) {
		t.Parallel()
		c, ctl := voidPair(t, true)
		ref := qrOrder(t, c, 192)
		res, err := query(t, c, ref)
		wantStatus(t, "Query", res, err, gateways.StatusUserPaying)
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse", res, err, gateways.StatusSucceeded)
		if o, _ := ctl.srv.Ledger().Get(ref.OutTradeNo); o.State != sim.Revoked {
			t.Errorf("ledger state %s, want %s", o.State, sim.Revoked)
		}
	})
	t.Run("PaidSameDay", func(t *testing.T) {
		t.Parallel()
		c, ctl := voidPair(t, true)
		ref := qrOrder(t, c, 100)
		res, err := query(t, c, ref)
		wantStatus(t, "Query", res, err, gateways.StatusSucceeded)
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse of a paid order", res, err, gateways.StatusSucceeded)
		if o, _ := ctl.srv.Ledger().Get(ref.OutTradeNo); o.State != sim.Revoked {
			t.Errorf("ledger state %s, want %s", o.State, sim.Revoked)
		}
	})
	// A VOID answered U6 ("repeat order number") for an order that is paid
	// or open does not loop: the order is read and the reverse ends from
	// what INQY says; the next attempt draws a fresh number.
	t.Run("U6OnPaidOrder", func(t *testing.T) {
		t.Parallel()
		c, ctl := voidPair(t, true)
		ref := qrOrder(t, c, 100)
		res, err := query(t, c, ref)
		wantStatus(t, "Query", res, err, gateways.StatusSucceeded)
		ctl.srv.ScriptAnswer(ref.OutTradeNo, sim.OpReverse, sim.Answer{Code: allpay.RespRepeatOrderNum, Truth: sim.TruthNotDone})
		time.Sleep(25 * time.Millisecond)
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse answered U6 of a paid order", res, err, gateways.StatusFailed)
	})
	t.Run("U6OnOpenOrderThenFreshNumber", func(t *testing.T) {
		t.Parallel()
		c, ctl := voidPair(t, true)
		ref := qrOrder(t, c, 192)
		ctl.srv.ScriptAnswer(ref.OutTradeNo, sim.OpReverse, sim.Answer{Code: allpay.RespRepeatOrderNum, Truth: sim.TruthNotDone})
		res, err := c.Reverse(ctx, ref)
		wantStatus(t, "Reverse answered U6 of an open order", res, err, gateways.StatusUserPaying)
		time.Sleep(25 * time.Millisecond)
		// The simulator remembers the first cancellation number; a second
		// VOID with it would be U6 again. A fresh one is executed.
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse retried", res, err, gateways.StatusSucceeded)
		if res.Code != allpay.RespSuccess {
			t.Errorf("retried VOID answered %s, want 00 (a fresh number)", res.Code)
		}
	})
	t.Run("Refunded", func(t *testing.T) {
		t.Parallel()
		c, _ := voidPair(t, true)
		ref := qrOrder(t, c, 100)
		res, err := query(t, c, ref)
		wantStatus(t, "Query", res, err, gateways.StatusSucceeded)
		res, err = c.Refund(ctx, gateways.RefundRequest{Order: ref, OutRefundNo: gatewaytest.NewOutTradeNo(), Amount: pos.Money{Minor: 10, Currency: allpay.DefaultCurrency}})
		wantStatus(t, "Refund", res, err, gateways.StatusSucceeded)
		time.Sleep(25 * time.Millisecond)
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse of a refunded order", res, err, gateways.StatusFailed)
	})
	t.Run("NeverReceived", func(t *testing.T) {
		t.Parallel()
		c, _ := voidPair(t, true)
		ref := gateways.OrderRef{OutTradeNo: gatewaytest.NewOutTradeNo(), Wallet: pos.Alipay, Method: pos.MerchantQR}
		res, err := c.Reverse(ctx, ref)
		if !pos.Match(pos.NotFound, err) {
			t.Fatalf("Reverse of an unknown order = %+v, %v; want pos.NotFound", res, err)
		}
	})
	for _, f := range []sim.Fault{sim.NoAnswer, sim.HTTP5xx, sim.Malformed, sim.BadSignature} {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			c, ctl := voidPair(t, true)
			ref := qrOrder(t, c, 192)
			ctl.Script(ref.OutTradeNo, sim.Behaviour{Scenario: sim.PayingUntilReversed, Fault: f, FaultOn: []sim.Op{sim.OpReverse}, Times: 1})
			cctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
			defer cancel()
			res, err := c.Reverse(cctx, ref)
			if !pos.Match(pos.Unknown, err) || res.Status != gateways.StatusUnknown {
				t.Fatalf("Reverse = %+v, %v; want a pos.Unknown error", res, err)
			}
			// The VOID was processed; the retry (a fresh number) finds the
			// order cancelled.
			time.Sleep(25 * time.Millisecond)
			res, err = c.Reverse(ctx, ref)
			wantStatus(t, "Reverse retried", res, err, gateways.StatusSucceeded)
		})
	}
}

// INQY 01, 61 and P3 inside the payable window are not final: the
// customer may still pay. After it they are.
func TestInquiryWindow(t *testing.T) {
	ctx := context.Background()
	c, ctl := newPairWith(t, "", nil, func(o *allpay.Options) { o.PayableWindow = time.Hour })
	for _, code := range []string{allpay.RespFail, allpay.RespExceedLimit, allpay.RespNoBalance} {
		ref := qrOrder(t, c, 192)
		ref.SubmittedAt = time.Now()
		ctl.srv.ScriptAnswer(ref.OutTradeNo, sim.OpQuery, sim.Answer{Code: code, Truth: sim.TruthNotDone})
		res, err := c.Query(ctx, ref)
		wantStatus(t, "INQY "+code+" inside the window", res, err, gateways.StatusUserPaying)
	}
	// The same answer after the window, on the same simulator.
	ref := qrOrder(t, c, 193) // declined when the customer tries: INQY 01
	res, err := query(t, c, ref)
	wantStatus(t, "INQY 01 (declined) inside the window", res, err, gateways.StatusUserPaying)
	ref.SubmittedAt = time.Now().Add(-2 * time.Hour)
	res, err = query(t, c, ref)
	wantStatus(t, "INQY 01 after the window", res, err, gateways.StatusFailed)
}

// The QRCODE purchase answer is accepted with only what §5.1.1 promises
// (RespCode, RespMsg, code_url), signed; unsigned it is not trusted; an
// amount written with more zeros than its currency has is the same amount.
func TestPurchaseAnswerAsSection511(t *testing.T) {
	key := allpaysim.TestKey.Reveal()
	serve := func(ans allpay.Fields, signed bool) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := maps.Clone(ans)
			if signed {
				// SHA256 (the merchant's type) whether or not signType is sent.
				sum := sha256.Sum256([]byte(a.SigningString(false) + key))
				a[allpay.SignatureField] = hex.EncodeToString(sum[:])
			}
			_, _ = w.Write(a.JSON())
		}))
	}
	client := func(url string) *allpay.Client {
		c, err := allpay.New(allpay.Options{Endpoint: url, MerID: allpaysim.TestMerID, Key: allpaysim.TestKey, BackURL: "http://127.0.0.1:9/n", Simulated: true}, gateways.Env{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	minimal := allpay.Fields{"RespCode": "00", "RespMsg": "Success", "code_url": "weixin://wxpay/bizpayurl?pr=x", "signType": allpay.SignSHA256}
	req := gateways.QRRequest{OutTradeNo: "PA1", Amount: pos.Money{Minor: 100, Currency: "USD"}, Wallet: pos.WeChatPay}
	for name, ans := range map[string]allpay.Fields{
		"§5.1.1 fields":           minimal,
		"§5.1.1 without signType": {"RespCode": "00", "RespMsg": "Success", "code_url": "weixin://x"},
	} {
		ts := serve(ans, true)
		res, err := client(ts.URL).CreateQR(context.Background(), req)
		ts.Close()
		if err != nil || res.Status != gateways.StatusUserPaying || res.CodeURL == "" {
			t.Errorf("%s: CreateQR = %+v, %v; want UserPaying with the code", name, res, err)
		}
	}
	ts := serve(minimal, false)
	defer ts.Close()
	if res, err := client(ts.URL).CreateQR(context.Background(), req); !pos.Match(pos.Unknown, err) {
		t.Errorf("unsigned: CreateQR = %+v, %v; want a pos.Unknown error", res, err)
	}
	other := maps.Clone(minimal)
	other["orderNum"] = "PA2"
	ts2 := serve(other, true)
	defer ts2.Close()
	if res, err := client(ts2.URL).CreateQR(context.Background(), req); err != nil || res.Mismatch == "" || res.Status != gateways.StatusUnknown || res.CodeURL != "" {
		t.Errorf("another orderNum: CreateQR = %+v, %v; want Unknown with Mismatch", res, err)
	}
	for _, tc := range []struct {
		s, cur string
		minor  int64
		ok     bool
	}{{"100.00", "JPY", 100, true}, {"100", "JPY", 100, true}, {"100.50", "JPY", 0, false}, {"12.340", "USD", 1234, true}, {"12.345", "USD", 0, false}} {
		m, err := allpay.ParseAmount(tc.s, tc.cur)
		if tc.ok != (err == nil) || tc.ok && m.Minor != tc.minor {
			t.Errorf("ParseAmount(%q, %s) = %v, %v", tc.s, tc.cur, m, err)
		}
	}
}

func TestNotificationRefusals(t *testing.T) {
	c, ctl := newPair(t, "", nil)
	ref := qrOrder(t, c, 100)
	if _, err := query(t, c, ref); err != nil {
		t.Fatal(err)
	}
	_, body, err := ctl.srv.Notification(ref.OutTradeNo, "")
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.ParseNotification(nil, body)
	if err != nil || n.Result.Status != gateways.StatusSucceeded || n.Result.Amount != ref.Amount || n.OutTradeNo != ref.OutTradeNo {
		t.Fatalf("ParseNotification = %+v, %v", n, err)
	}
	resign := func(mutate func(allpay.Fields)) []byte {
		f, err := allpay.ParseFields(body)
		if err != nil {
			t.Fatal(err)
		}
		mutate(f)
		sig, err := allpay.Sign(f, allpaysim.TestKey.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		f[allpay.SignatureField] = sig
		return f.JSON()
	}
	for name, b := range map[string][]byte{
		"a refund":     resign(func(f allpay.Fields) { f["transType"] = allpay.TransRefund }),
		"no orderNum":  resign(func(f allpay.Fields) { delete(f, "orderNum") }),
		"MD5 signType": resign(func(f allpay.Fields) { f["signType"] = allpay.SignMD5 }),
		"tampered amount": func() []byte {
			f, _ := allpay.ParseFields(body)
			f["orderAmount"] = "0.01"
			return f.JSON()
		}(),
	} {
		if n, err := c.ParseNotification(nil, b); !pos.Match(pos.Unknown, err) {
			t.Errorf("%s: ParseNotification = %+v, %v; want a pos.Unknown error", name, n, err)
		}
	}
	// Signed, but about something else: Unknown with Mismatch, never paid.
	for name, b := range map[string][]byte{
		"another merchant": resign(func(f allpay.Fields) { f["merID"] = "999" }),
		"another currency": resign(func(f allpay.Fields) { f["orderCurrency"] = "HKD" }),
		"no amount":        resign(func(f allpay.Fields) { delete(f, "orderAmount") }),
	} {
		if n, err := c.ParseNotification(nil, b); err != nil || n.Result.Status != gateways.StatusUnknown || n.Result.Mismatch == "" {
			t.Errorf("%s: ParseNotification = %+v, %v; want Unknown with Mismatch", name, n, err)
		}
	}
	// The amount is reported for the flows to compare with the journal.
	small := resign(func(f allpay.Fields) { f["orderAmount"] = "0.01" })
	if n, err := c.ParseNotification(nil, small); err != nil || n.Result.Amount.Minor != 1 || n.Result.OutTradeNo != ref.OutTradeNo {
		t.Errorf("0.01 notification = %+v, %v; want Amount 0.01 and OutTradeNo", n, err)
	}
	failed := resign(func(f allpay.Fields) { f["RespCode"] = allpay.RespFail })
	if n, err := c.ParseNotification(nil, failed); err != nil || n.Result.Status != gateways.StatusUnknown {
		t.Errorf("RespCode 01 notification = %+v, %v; want Unknown (query instead)", n, err)
	}
}
