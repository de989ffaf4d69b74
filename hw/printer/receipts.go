package printer

import (
	"fmt"
	"image"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/posagent/posagent"
)

// Header is what every receipt of a shop carries, from the config.
type Header struct {
	Merchant string // merchant name, printed large at the top
	Store    string // store name or number
	Terminal string // till id
	// Lines are printed under the merchant name (address, phone).
	Lines []string
	// Footer lines close every customer receipt ("Thank you 谢谢惠顾").
	Footer []string
	// Logo, if set, is printed at the top, scaled to the paper and
	// thresholded (or dithered when LogoDither is set).
	Logo       image.Image
	LogoDither bool
}

// Copy says who keeps a receipt.
type Copy uint8

// The copies of a payment receipt.
const (
	CustomerCopy Copy = iota
	MerchantCopy
)

// String is the copy's name in receipt names: "customer", "merchant".
func (c Copy) String() string {
	if c == MerchantCopy {
		return "merchant"
	}
	return "customer"
}

func (c Copy) label() string {
	if c == MerchantCopy {
		return "MERCHANT COPY 商户存根"
	}
	return "CUSTOMER COPY 顾客存根"
}

// timeLayout is how receipts print times: in the time's own location, which
// the caller sets (the till's local time).
const timeLayout = "2006-01-02 15:04:05"

// stateLabel is a payment state as a receipt shows it, in both languages.
func stateLabel(s pos.State) string {
	switch s {
	case pos.StateSucceeded:
		return "PAID 支付成功"
	case pos.StateFailed:
		return "FAILED 支付失败"
	case pos.StateReversed:
		return "REVERSED 已撤销"
	}
	return "PENDING 处理中"
}

func (h Header) top(title string) []Block {
	var b []Block
	if h.Logo != nil {
		b = append(b, Image{Img: h.Logo, Dither: h.LogoDither})
	}
	if h.Merchant != "" {
		b = append(b, Text{Text: h.Merchant, Style: Style{Align: Center, Bold: true, Width: 2, Height: 2}})
	}
	for _, l := range h.Lines {
		b = append(b, Text{Text: l, Style: Style{Align: Center}})
	}
	b = append(b, Rule{})
	b = append(b, Text{Text: title, Style: Style{Align: Center, Bold: true, Height: 2}})
	if h.Store != "" {
		b = append(b, Pair{Label: "Store 门店", Value: h.Store})
	}
	if h.Terminal != "" {
		b = append(b, Pair{Label: "Terminal 终端", Value: h.Terminal})
	}
	return b
}

func (h Header) bottom(footer bool) []Block {
	var b []Block
	if footer {
		for _, l := range h.Footer {
			b = append(b, Text{Text: l, Style: Style{Align: Center}})
		}
	}
	return append(b, Feed{Lines: 3}, Cut{Partial: true})
}

// paymentBody is the part of payment, refund and reversal receipts that
// describes the original payment.
func paymentBody(p pos.Payment) []Block {
	at := p.UpdatedAt
	if at.IsZero() {
		at = p.CreatedAt
	}
	b := []Block{Pair{Label: "Time 时间", Value: at.Format(timeLayout)}}
	if p.Wallet != "" {
		b = append(b, Pair{Label: "Wallet 支付方式", Value: p.Wallet.DisplayName()})
	}
	if p.CodeMasked != "" {
		b = append(b, Pair{Label: "Code 付款码", Value: p.CodeMasked})
	}
	if p.TransactionID != "" {
		b = append(b, Pair{Label: "Txn No. 交易单号", Value: p.TransactionID})
	}
	b = append(b, Pair{Label: "Order No. 商户单号", Value: p.OutTradeNo})
	return b
}

// amount is a money line in large print.
func amount(label string, m pos.Money) []Block {
	return []Block{
		Text{Text: label},
		Text{Text: string(m.Currency) + " " + m.Decimal(), Style: Style{Align: Right, Bold: true, Width: 2, Height: 2}},
	}
}

// qrOf is the QR code that identifies a payment at the till and with the
// platform: the platform transaction id, or our out_trade_no before there is
// one.
func qrOf(p pos.Payment) []Block {
	id := p.TransactionID
	if id == "" {
		id = p.OutTradeNo
	}
	if id == "" {
		return nil
	}
	return []Block{Feed{Lines: 1}, QR{Data: id}, Feed{Lines: 1}}
}

// PaymentReceipt is the receipt of a payment in its current state, for one
// copy. The merchant copy has a signature line instead of the footer. A
// payment that did not go through says "Not charged 未扣款" with a short
// reason, and has no thank-you footer.
func PaymentReceipt(p pos.Payment, h Header, c Copy) Receipt {
	b := h.top("PAYMENT 支付凭证")
	b = append(b, Text{Text: c.label(), Style: Style{Align: Center}}, Rule{})
	b = append(b, amount("Amount 金额", p.Amount)...)
	b = append(b, Rule{})
	b = append(b, paymentBody(p)...)
	b = append(b, Pair{Label: "State 状态", Value: stateLabel(p.State), Bold: true})
	if p.State == pos.StateFailed {
		b = append(b, Text{Text: "Not charged 未扣款", Style: Style{Align: Center, Bold: true, Height: 2}})
	}
	if p.State != pos.StateSucceeded && p.Reason != "" {
		b = append(b, Text{Text: "Reason 原因: " + ShortReason(p.Reason)})
	}
	b = append(b, qrOf(p)...)
	if c == MerchantCopy {
		b = append(b, Feed{Lines: 2}, Text{Text: "Signature 签名: ____________"})
	}
	b = append(b, h.bottom(c == CustomerCopy && p.State == pos.StateSucceeded)...)
	return Receipt{Name: p.ID + "-" + c.String(), Blocks: b}
}

// Clean makes text from the till or a gateway safe to print: control
// characters (CR, LF, ESC, the C1 set: a printer would act on them) become
// spaces, runs of spaces one, and the ends are trimmed.
func Clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufffd' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// technical marks a reason written for engineers (a Go error, a URL, an
// address, a stack of wrapped errors): receipts never print those.
var technical = regexp.MustCompile(`(?i)(://|\bdial\b|\btcp\b|\budp\b|lookup |x509|\beof\b|i/o |context deadline|connection (refused|reset)|no such host|\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|[{}<>]|\bpanic\b|: .*: )`)

// maxReason is the longest reason a receipt prints, in characters.
const maxReason = 96

// ShortReason is reason as a receipt prints it: cleaned, at most
// maxReason characters, and never a technical error (those stay in the
// journal's detail and the log): a technical reason becomes "Not
// completed 交易未完成".
func ShortReason(reason string) string {
	r := Clean(reason)
	if r == "" {
		return ""
	}
	if technical.MatchString(r) {
		return "Not completed 交易未完成"
	}
	if rs := []rune(r); len(rs) > maxReason {
		r = strings.TrimSpace(string(rs[:maxReason-1])) + "…"
	}
	return r
}

// Refund is one refund of a payment, as a receipt shows it.
type Refund struct {
	ID          string // ours, "ref_..."
	OutRefundNo string // sent to the gateway
	RefundID    string // the platform's id, once known
	Amount      pos.Money
	At          time.Time
	State       string // "succeeded", "pending", "failed"
	Reason      string
	// Void says the money went back by a void of the sale (the gateway
	// cancelled it, the same day), not by a refund.
	Void bool
}

func refundStateLabel(s string, void bool) string {
	if void {
		switch s {
		case "succeeded":
			return "VOIDED 已撤销"
		case "failed":
			return "FAILED 撤销失败"
		}
		return "PENDING 撤销处理中"
	}
	switch s {
	case "succeeded":
		return "REFUNDED 退款成功"
	case "failed":
		return "FAILED 退款失败"
	}
	return "PENDING 退款处理中"
}

// RefundReceipt is the receipt of a refund of payment p.
func RefundReceipt(p pos.Payment, r Refund, h Header, c Copy) Receipt {
	title, what, not := "REFUND 退款凭证", "Refund 退款金额", "Not refunded 未退款"
	if r.Void {
		title, what, not = "VOID 撤销凭证", "Voided 撤销金额", "Not voided 未撤销"
	}
	b := h.top(title)
	b = append(b, Text{Text: c.label(), Style: Style{Align: Center}}, Rule{})
	b = append(b, amount(what, r.Amount)...)
	b = append(b, Pair{Label: "Paid 原支付金额", Value: p.Amount.String()})
	b = append(b, Rule{})
	b = append(b, Pair{Label: "Refund time 退款时间", Value: r.At.Format(timeLayout)})
	if r.RefundID != "" {
		b = append(b, Pair{Label: "Refund No. 退款单号", Value: r.RefundID})
	}
	b = append(b, Pair{Label: "Our refund No. 商户退款单号", Value: r.OutRefundNo})
	b = append(b, paymentBody(p)...)
	b = append(b, Pair{Label: "State 状态", Value: refundStateLabel(r.State, r.Void), Bold: true})
	if r.State == "failed" {
		b = append(b, Text{Text: not, Style: Style{Align: Center, Bold: true, Height: 2}})
	}
	if r.Reason != "" {
		b = append(b, Text{Text: "Reason 原因: " + ShortReason(r.Reason)})
	}
	b = append(b, qrOf(p)...)
	if c == MerchantCopy {
		b = append(b, Feed{Lines: 2}, Text{Text: "Signature 签名: ____________"})
	}
	b = append(b, h.bottom(c == CustomerCopy && r.State == "succeeded")...)
	return Receipt{Name: r.ID + "-" + c.String(), Blocks: b}
}

// ReversalReceipt is the voucher of a voided (reversed or closed) payment,
// for the customer: it proves the charge, if any, was taken back.
func ReversalReceipt(p pos.Payment, h Header) Receipt {
	b := h.top("VOID 撤销凭证")
	b = append(b, Rule{})
	b = append(b, amount("Amount 金额", p.Amount)...)
	b = append(b, Rule{})
	b = append(b, paymentBody(p)...)
	b = append(b, Pair{Label: "State 状态", Value: stateLabel(p.State), Bold: true})
	if p.Reason != "" {
		b = append(b, Text{Text: "Reason 原因: " + ShortReason(p.Reason)})
	}
	b = append(b, qrOf(p)...)
	b = append(b, h.bottom(false)...)
	return Receipt{Name: p.ID + "-void", Blocks: b}
}

// Summary is the end-of-day (or any period's) totals.
type Summary struct {
	From, To time.Time
	// Lines are the totals per wallet and currency, in the order printed.
	Lines []SummaryLine
	// Failed and Reversed count payments that moved no money.
	Failed, Reversed int
}

// SummaryLine is one wallet's totals in one currency.
type SummaryLine struct {
	Wallet   pos.Wallet
	Count    int
	Amount   pos.Money // paid
	Refunds  int
	Refunded pos.Money // zero when there were none
	// Voids and Voided are the sales voided (the gateway cancelled them
	// the same day) after they succeeded: like refunds, taken off the net.
	Voids  int
	Voided pos.Money
}

// SummaryReceipt is the end-of-day summary: per wallet, then per currency
// the net total (paid minus refunded).
func SummaryReceipt(s Summary, h Header) Receipt {
	b := h.top("SUMMARY 结算汇总")
	b = append(b,
		Pair{Label: "From 开始", Value: s.From.Format(timeLayout)},
		Pair{Label: "To 结束", Value: s.To.Format(timeLayout)},
		Rule{},
	)
	type total struct{ paid, refunded int64 }
	var order []pos.Currency
	totals := map[pos.Currency]*total{}
	for _, l := range s.Lines {
		cur := l.Amount.Currency
		if totals[cur] == nil {
			totals[cur] = &total{}
			order = append(order, cur)
		}
		totals[cur].paid += l.Amount.Minor
		totals[cur].refunded += l.Refunded.Minor + l.Voided.Minor
		b = append(b,
			Text{Text: l.Wallet.DisplayName(), Style: Style{Bold: true}},
			Pair{Label: fmt.Sprintf("  Paid 收款 ×%d", l.Count), Value: l.Amount.String()},
		)
		if l.Refunds > 0 {
			b = append(b, Pair{Label: fmt.Sprintf("  Refunded 退款 ×%d", l.Refunds), Value: pos.Money{Minor: l.Refunded.Minor, Currency: cur}.String()})
		}
		if l.Voids > 0 {
			b = append(b, Pair{Label: fmt.Sprintf("  Sales voided 撤销 ×%d", l.Voids), Value: pos.Money{Minor: l.Voided.Minor, Currency: cur}.String()})
		}
	}
	b = append(b, Rule{})
	for _, cur := range order {
		t := totals[cur]
		b = append(b, Pair{Label: "Net 净额 " + string(cur), Value: pos.Money{Minor: t.paid - t.refunded, Currency: cur}.Decimal(), Bold: true})
	}
	if len(order) == 0 {
		b = append(b, Text{Text: "No payments 无交易", Style: Style{Align: Center}})
	}
	b = append(b,
		Pair{Label: "Failed 失败", Value: fmt.Sprint(s.Failed)},
		Pair{Label: "Voided 撤销", Value: fmt.Sprint(s.Reversed)},
	)
	b = append(b, h.bottom(false)...)
	return Receipt{Name: "summary-" + s.To.Format("20060102-150405"), Blocks: b}
}

// TestReceipt is the support page's test print: the shop's header, the
// time, and plainly no payment, so nobody takes it for a receipt.
func TestReceipt(h Header, at time.Time) Receipt {
	b := h.top("TEST PRINT 打印测试")
	b = append(b, Rule{})
	b = append(b, Pair{Label: "Printed 打印时间", Value: at.Format("2006-01-02 15:04:05")})
	b = append(b, Text{Text: "Not a receipt: no payment 非交易凭证", Style: Style{Align: Center, Bold: true}})
	b = append(b, Text{Text: "ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 中文"})
	b = append(b, h.bottom(false)...)
	return Receipt{Name: "test-" + at.Format("20060102-150405"), Blocks: b}
}
