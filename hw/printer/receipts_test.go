package printer_test

import (
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/printertest"
)

// text flattens a receipt's words, for asserting what it says.
func text(r printer.Receipt) string {
	var b strings.Builder
	for _, bl := range r.Blocks {
		switch bl := bl.(type) {
		case printer.Text:
			b.WriteString(bl.Text + "\n")
		case printer.Pair:
			b.WriteString(bl.Label + " = " + bl.Value + "\n")
		case printer.QR:
			b.WriteString("QR " + bl.Data + "\n")
		}
	}
	return b.String()
}

func TestPaymentReceipt(t *testing.T) {
	p := printertest.Payment()
	h := printertest.Header()
	for _, c := range []printer.Copy{printer.CustomerCopy, printer.MerchantCopy} {
		r := printer.PaymentReceipt(p, h, c)
		s := text(r)
		for _, want := range []string{
			"Lucky Noodle 好运面馆", "Store 门店 = SH-001", "Terminal 终端 = till-02",
			"Time 时间 = 2025-03-14 12:34:56", "CNY 123.45", "Wallet 支付方式 = WeChat Pay",
			"Code 付款码 = 13************6789", "Txn No. 交易单号 = 4200002345202503141234567890",
			"Order No. 商户单号 = PA20250314123456000042", "State 状态 = PAID 支付成功",
			"QR 4200002345202503141234567890",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%s copy lacks %q:\n%s", c, want, s)
			}
		}
		if strings.Contains(s, "134567890123456789") {
			t.Errorf("%s copy shows the full payment code", c)
		}
		if r.Name != p.ID+"-"+c.String() {
			t.Errorf("name %q", r.Name)
		}
		if _, ok := r.Blocks[0].(printer.Image); !ok {
			t.Errorf("%s copy does not start with the logo", c)
		}
		if cut, ok := r.Blocks[len(r.Blocks)-1].(printer.Cut); !ok || !cut.Partial {
			t.Errorf("%s copy does not end with a partial cut", c)
		}
	}
	if s := text(printer.PaymentReceipt(p, h, printer.MerchantCopy)); !strings.Contains(s, "MERCHANT COPY 商户存根") || strings.Contains(s, "谢谢惠顾") {
		t.Errorf("merchant copy: want its label and no customer footer:\n%s", s)
	}
}

func TestPaymentWithoutTransactionIDShowsOurOrder(t *testing.T) {
	p := printertest.Payment()
	p.TransactionID = ""
	p.State = pos.StateFailed
	p.Reason = "insufficient funds"
	s := text(printer.PaymentReceipt(p, printer.Header{}, printer.CustomerCopy))
	for _, want := range []string{"QR PA20250314123456000042", "FAILED 支付失败", "Reason 原因: insufficient funds"} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %q:\n%s", want, s)
		}
	}
}

func TestOtherReceipts(t *testing.T) {
	byName := map[string]string{}
	for _, n := range printertest.Receipts() {
		byName[n.Name] = text(n.Receipt)
	}
	for name, wants := range map[string][]string{
		"refund-customer": {"REFUND 退款凭证", "CNY 20.00", "Paid 原支付金额 = 123.45 CNY", "Refund No. 退款单号 = 50300002345202503140001", "REFUNDED 退款成功"},
		"void":            {"VOID 撤销凭证", "REVERSED 已撤销", "Reason 原因: cancelled by cashier", "Wallet 支付方式 = Alipay"},
		"summary":         {"SUMMARY 结算汇总", "Paid 收款 ×42 = 5123.00 CNY", "Refunded 退款 ×1 = 20.00 CNY", "Net 净额 CNY = 7083.50", "Net 净额 HKD = 45.00", "Voided 撤销 = 1"},
	} {
		for _, w := range wants {
			if !strings.Contains(byName[name], w) {
				t.Errorf("%s lacks %q:\n%s", name, w, byName[name])
			}
		}
	}
}

func TestNotReadyError(t *testing.T) {
	err := &printer.NotReadyError{Status: printer.Status{CoverOpen: true, PaperOut: true}}
	if got, want := err.Error(), "printer not ready: offline, cover open, paper out"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestFailedPaymentSaysNotCharged: a failed payment's receipt says no money
// moved, with a short reason and no thank-you; a technical error never
// reaches paper; text from the till or a gateway is cleaned.
func TestFailedPaymentSaysNotCharged(t *testing.T) {
	h := printertest.Header()
	h.Footer = []string{"Thank you! 谢谢惠顾"}
	p := printertest.Payment()
	p.State = pos.StateFailed
	p.TransactionID = ""
	for _, c := range []struct{ reason, want string }{
		{"余额不足 (NOTENOUGH)", "Reason 原因: 余额不足 (NOTENOUGH)"},
		{"The payment service could not be reached. Nothing was charged.", "Reason 原因: The payment service could not be reached. Nothing was charged."},
		{`submit: Post "https://gw.example/pay": dial tcp 10.0.0.1:443: connect: connection refused`, "Reason 原因: Not completed 交易未完成"},
		{"wrapped: context deadline exceeded", "Reason 原因: Not completed 交易未完成"},
		{"card\r\nfrozen\x1b@\x0c by bank", "Reason 原因: card frozen @ by bank"},
		{strings.Repeat("very long reason ", 10), "…"}, // 170 characters: cut at 96,
	} {
		p.Reason = c.reason
		s := text(printer.PaymentReceipt(p, h, printer.CustomerCopy))
		for _, want := range []string{"Not charged 未扣款", "FAILED 支付失败", c.want} {
			if !strings.Contains(s, want) {
				t.Errorf("reason %q: the receipt lacks %q:\n%s", c.reason, want, s)
			}
		}
		for _, bad := range []string{"Thank you", "谢谢惠顾", "dial tcp", "10.0.0.1", "\r", "\x1b", "\x0c"} {
			if strings.Contains(s, bad) {
				t.Errorf("reason %q: the receipt says %q:\n%s", c.reason, bad, s)
			}
		}
	}
	p.State = pos.StateSucceeded
	if s := text(printer.PaymentReceipt(p, h, printer.CustomerCopy)); !strings.Contains(s, "谢谢惠顾") || strings.Contains(s, "Not charged") {
		t.Errorf("a paid receipt: want the thank-you and no 'not charged':\n%s", s)
	}
	r := printer.Refund{ID: "ref_1", OutRefundNo: "RF1", Amount: p.Amount, At: p.UpdatedAt, State: "succeeded", Reason: "damaged\r\n\x07goods"}
	if s := text(printer.RefundReceipt(p, r, h, printer.CustomerCopy)); !strings.Contains(s, "Reason 原因: damaged goods") {
		t.Errorf("the refund reason is not cleaned:\n%s", s)
	}
	r.State, r.Reason = "failed", "read tcp 10.1.1.1:5000: i/o timeout"
	if s := text(printer.RefundReceipt(p, r, h, printer.CustomerCopy)); !strings.Contains(s, "Not refunded 未退款") || strings.Contains(s, "i/o timeout") || strings.Contains(s, "Thank you") {
		t.Errorf("a failed refund's receipt:\n%s", s)
	}
}

// TestVoidOfASale: a refund record done by a void says so on paper ("VOID
// 撤销凭证", "VOIDED", "Not voided" when it failed), and the summary lists
// the day's voided sales apart and takes them off the net.
func TestVoidOfASale(t *testing.T) {
	h := printertest.Header()
	p := printertest.Payment()
	r := printer.Refund{ID: "ref_1", OutRefundNo: "RF1", Amount: p.Amount, At: p.UpdatedAt, State: "succeeded", Void: true}
	s := text(printer.RefundReceipt(p, r, h, printer.CustomerCopy))
	for _, want := range []string{"VOID 撤销凭证", "Voided 撤销金额", "VOIDED 已撤销"} {
		if !strings.Contains(s, want) {
			t.Errorf("the void's receipt lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "REFUND 退款凭证") {
		t.Errorf("the void's receipt calls itself a refund:\n%s", s)
	}
	r.State = "failed"
	if s := text(printer.RefundReceipt(p, r, h, printer.CustomerCopy)); !strings.Contains(s, "Not voided 未撤销") || !strings.Contains(s, "FAILED 撤销失败") {
		t.Errorf("a failed void's receipt:\n%s", s)
	}
	cny := func(m int64) pos.Money { return pos.Money{Minor: m, Currency: "CNY"} }
	sum := printer.Summary{Lines: []printer.SummaryLine{{Wallet: pos.WeChatPay, Count: 3, Amount: cny(6000), Refunds: 1, Refunded: cny(500), Voids: 1, Voided: cny(2000)}}}
	s = text(printer.SummaryReceipt(sum, h))
	for _, want := range []string{"Sales voided 撤销 ×1 = 20.00 CNY", "Refunded 退款 ×1 = 5.00 CNY", "Net 净额 CNY = 35.00"} {
		if !strings.Contains(s, want) {
			t.Errorf("the summary lacks %q:\n%s", want, s)
		}
	}
}
