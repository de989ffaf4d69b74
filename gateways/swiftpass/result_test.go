package swiftpass

import (
	"context"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// TestCloseWallets: §6.6.1 "Close order only applicable for Wechat Pay
// and Alipay, but not for UPI QR payment": a UPI order is polled until
// it expires, never closed.
func TestCloseWallets(t *testing.T) {
	caps := testClient(t, testOptions(), nil).Capabilities()
	for w, want := range map[pos.Wallet]bool{pos.WeChatPay: true, pos.Alipay: true, pos.UnionPay: false} {
		if got := caps.CanClose(w); got != want {
			t.Errorf("CanClose(%s) = %v, want %v", w, got, want)
		}
	}
}

// TestPayErrorNeedsClosing (S1): PAYERROR is Failed, with its code, and
// the order is one the flows close (WeChat Pay, Alipay), since §6.6.1
// asks for it "to avoid repeated payment".
func TestPayErrorNeedsClosing(t *testing.T) {
	cl := answering(t, func(Fields) Fields {
		return Fields{"status": "0", "result_code": "0", "mch_id": "7551000001", "out_trade_no": "PA1",
			"trade_state": "PAYERROR", "trade_type": ServiceWeChatQR, "total_fee": "100", "fee_type": "HKD"}
	}, mustSigner(t, MD5, exampleKey))
	res, err := cl.Query(context.Background(), gateways.OrderRef{OutTradeNo: "PA1", Amount: hkd(t, 100), Wallet: pos.WeChatPay})
	if err != nil || res.Status != gateways.StatusFailed || res.Code != StatePayError || res.Reason == "" || res.OutTradeNo != "PA1" {
		t.Fatalf("Query PAYERROR = %+v, %v", res, err)
	}
	if !cl.Capabilities().CanClose(res.Wallet) {
		t.Fatal("a PAYERROR WeChat order is not one the flows may close")
	}
}

// TestRefundAccepted (S3): result_code 0 is the refund accepted, not
// done; the answer's numbers and amount are reported, and checked.
func TestRefundAccepted(t *testing.T) {
	answer := func(Fields) Fields {
		return Fields{"status": "0", "result_code": "0", "mch_id": "7551000001", "out_trade_no": "PA1",
			"out_refund_no": "RF1", "refund_id": "501", "refund_fee": "40", "fee_type": "HKD", "transaction_id": "42x"}
	}
	req := gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1", Amount: hkd(t, 100)}, OutRefundNo: "RF1", Amount: hkd(t, 40)}
	s := mustSigner(t, MD5, exampleKey)
	res, err := answering(t, answer, s).Refund(context.Background(), req)
	if err != nil || res.Status != gateways.StatusUserPaying || res.RefundID != "501" || res.OutTradeNo != "PA1" ||
		res.OutRefundNo != "RF1" || res.RefundAmount != hkd(t, 40) || res.Mismatch != "" {
		t.Fatalf("Refund = %+v, %v; want accepted (user_paying) with its numbers", res, err)
	}
	for name, mutate := range map[string]func(Fields){
		"other refund":    func(f Fields) { f["out_refund_no"] = "RF2" },
		"no refund":       func(f Fields) { delete(f, "out_refund_no") },
		"other amount":    func(f Fields) { f["refund_fee"] = "41" },
		"no refund_fee":   func(f Fields) { delete(f, "refund_fee") },
		"other order":     func(f Fields) { f["out_trade_no"] = "PA2" },
		"other merchant":  func(f Fields) { f["mch_id"] = "7551000002" },
		"other currency":  func(f Fields) { f["fee_type"] = "CNY" },
		"no out_trade_no": func(f Fields) { delete(f, "out_trade_no") },
	} {
		t.Run(name, func(t *testing.T) {
			cl := answering(t, func(q Fields) Fields { f := answer(q); mutate(f); return f }, s)
			res, err := cl.Refund(context.Background(), req)
			if err != nil || res.Status != gateways.StatusUnknown || res.Mismatch == "" {
				t.Fatalf("Refund = %+v, %v; want Unknown with a Mismatch", res, err)
			}
		})
	}
}

// TestCloseAfterMargin (S6): a real endpoint's first close waits the
// spec's 5 minutes plus a margin for the till's clock, and close_after
// below the spec is refused.
func TestCloseAfterMargin(t *testing.T) {
	o := testOptions()
	o.Simulated = false
	o.Endpoint = "https://gateway.wepayez.com/pay/gateway"
	o.PollInterval, o.CloseAfter, o.QRTimeout = 0, 0, 0
	c, err := New(o, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Timing().CloseAfter; got != 5*time.Minute+15*time.Second {
		t.Fatalf("CloseAfter = %s, want 5m15s", got)
	}
	o.CloseAfter = 5*time.Minute - time.Second
	if _, err := New(o, gateways.Env{}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("close_after 4m59s against a real endpoint: %v, want refused", err)
	}
}
