package allpay

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Field rules are checked before anything is sent; the error names the field.
func TestFieldRulesBeforeSending(t *testing.T) {
	rec := &recorder{code: RespSuccess}
	ts := httptest.NewServer(rec)
	defer ts.Close()
	c := fixedClient(t, ts.URL, nil)
	ctx := context.Background()
	qr := func(no string, amt pos.Money, w pos.Wallet) error {
		_, err := c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: no, Amount: amt, Wallet: w})
		return err
	}
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"order number with a space", qr("PA 1", usd(100), pos.WeChatPay), "orderNum"},
		{"order number too long", qr(strings.Repeat("1", 61), usd(100), pos.WeChatPay), "orderNum"},
		{"no order number", qr("", usd(100), pos.WeChatPay), "orderNum"},
		{"another currency", qr("PA1", pos.Money{Minor: 100, Currency: "CNY"}, pos.WeChatPay), "orderCurrency"},
		{"zero amount", qr("PA1", usd(0), pos.WeChatPay), "orderAmount"},
		{"wallet without a channel", qr("PA1", usd(100), pos.UnionPay), "paymentSchema"},
		{"void number too long", func() error {
			_, err := fixedClient(t, ts.URL, func(o *Options) { o.VoidQR = true }).Reverse(ctx, gateways.OrderRef{OutTradeNo: strings.Repeat("1", 60), Wallet: pos.WeChatPay})
			return err
		}(), "orderNum"},
		{"refund number", func() error {
			_, err := c.Refund(ctx, gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1", Wallet: pos.Alipay}, OutRefundNo: "R&1", Amount: usd(1)})
			return err
		}(), "orderNum"},
	} {
		if !pos.Match(pos.Invalid, tc.err) || !strings.Contains(tc.err.Error(), "field "+tc.field) {
			t.Errorf("%s: %v, want an Invalid error naming field %s", tc.name, tc.err, tc.field)
		}
	}
	if rec.body != nil {
		t.Errorf("a refused request was sent: %s", rec.body)
	}
}

// A purchase answered U6 may be an order that exists: Unknown, never Failed.
func TestPurchaseRepeatIsUnknown(t *testing.T) {
	rec := &recorder{code: RespRepeatOrderNum}
	ts := httptest.NewServer(rec)
	defer ts.Close()
	c := fixedClient(t, ts.URL, nil)
	res, err := c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: "PA1", Amount: usd(100), Wallet: pos.WeChatPay})
	if err != nil || res.Status != gateways.StatusUnknown || res.CodeURL != "" {
		t.Fatalf("CreateQR = %+v, %v; want Unknown without a code", res, err)
	}
}
