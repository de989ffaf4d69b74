package allpay_test

import (
	"context"
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

func TestReverseQR(t *testing.T) {
	ctx := context.Background()
	t.Run("Unpaid", func(t *testing.T) {
		t.Parallel()
		c, ctl := newPair(t, "", nil)
		ref := qrOrder(t, c, 192)
		res, err := query(t, c, ref)
		wantStatus(t, "Query", res, err, gateways.StatusUserPaying)
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse", res, err, gateways.StatusSucceeded)
		res, err = query(t, c, ref)
		wantStatus(t, "Query after the VOID", res, err, gateways.StatusFailed)
		if o, _ := ctl.srv.Ledger().Get(ref.OutTradeNo); o.State != sim.Revoked {
			t.Errorf("ledger state %s, want %s", o.State, sim.Revoked)
		}
	})
	t.Run("PaidSameDay", func(t *testing.T) {
		t.Parallel()
		c, ctl := newPair(t, "", nil)
		ref := qrOrder(t, c, 100)
		res, err := query(t, c, ref)
		wantStatus(t, "Query", res, err, gateways.StatusSucceeded)
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse of a paid order", res, err, gateways.StatusSucceeded)
		if o, _ := ctl.srv.Ledger().Get(ref.OutTradeNo); o.State != sim.Revoked {
			t.Errorf("ledger state %s, want %s", o.State, sim.Revoked)
		}
	})
	t.Run("TwiceIsU6ResolvedByInquiry", func(t *testing.T) {
		t.Parallel()
		c, _ := newPair(t, "", nil)
		ref := qrOrder(t, c, 192)
		for i := range 2 {
			res, err := c.Reverse(ctx, ref)
			wantStatus(t, "Reverse", res, err, gateways.StatusSucceeded)
			if i == 1 && res.Code == allpay.RespSuccess {
				t.Errorf("second VOID answered %s; want the U6 path", res.Code)
			}
		}
	})
	t.Run("Refunded", func(t *testing.T) {
		t.Parallel()
		c, _ := newPair(t, "", nil)
		ref := qrOrder(t, c, 100)
		res, err := query(t, c, ref)
		wantStatus(t, "Query", res, err, gateways.StatusSucceeded)
		res, err = c.Refund(ctx, gateways.RefundRequest{Order: ref, OutRefundNo: gatewaytest.NewOutTradeNo(), Amount: pos.Money{Minor: 10, Currency: allpay.DefaultCurrency}})
		wantStatus(t, "Refund", res, err, gateways.StatusSucceeded)
		res, err = c.Reverse(ctx, ref)
		wantStatus(t, "Reverse of a refunded order", res, err, gateways.StatusFailed)
	})
	t.Run("NeverReceived", func(t *testing.T) {
		t.Parallel()
		c, _ := newPair(t, "", nil)
		ref := gateways.OrderRef{OutTradeNo: gatewaytest.NewOutTradeNo(), Wallet: pos.Alipay, Method: pos.MerchantQR}
		res, err := c.Reverse(ctx, ref)
		if !pos.Match(pos.NotFound, err) {
			t.Fatalf("Reverse of an unknown order = %+v, %v; want pos.NotFound", res, err)
		}
	})
	for _, f := range []sim.Fault{sim.NoAnswer, sim.HTTP5xx, sim.Malformed, sim.BadSignature} {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			c, ctl := newPair(t, "", nil)
			ref := qrOrder(t, c, 192)
			ctl.Script(ref.OutTradeNo, sim.Behaviour{Scenario: sim.PayingUntilReversed, Fault: f, FaultOn: []sim.Op{sim.OpReverse}, Times: 1})
			cctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
			defer cancel()
			res, err := c.Reverse(cctx, ref)
			if !pos.Match(pos.Unknown, err) || res.Status != gateways.StatusUnknown {
				t.Fatalf("Reverse = %+v, %v; want a pos.Unknown error", res, err)
			}
			// The VOID was processed; retrying it is safe and confirms it.
			res, err = c.Reverse(ctx, ref)
			wantStatus(t, "Reverse retried", res, err, gateways.StatusSucceeded)
		})
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
		"another merchant": resign(func(f allpay.Fields) { f["merID"] = "999" }),
		"a refund":         resign(func(f allpay.Fields) { f["transType"] = allpay.TransRefund }),
		"no orderNum":      resign(func(f allpay.Fields) { delete(f, "orderNum") }),
		"MD5 signType":     resign(func(f allpay.Fields) { f["signType"] = allpay.SignMD5 }),
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
	failed := resign(func(f allpay.Fields) { f["RespCode"] = allpay.RespFail })
	if n, err := c.ParseNotification(nil, failed); err != nil || n.Result.Status != gateways.StatusUnknown {
		t.Errorf("RespCode 01 notification = %+v, %v; want Unknown (query instead)", n, err)
	}
}
