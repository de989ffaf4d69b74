package hipopaysim

import (
	"fmt"
	"strings"
	"time"

	"github.com/posagent/posagent/gateways/sim"
)

// FeeRate is the simulator's service fee, in hundredths of a percent of a
// collection (rounded down): 100 is 1 %.
const FeeRate = 100

// billHeader is the report's header line, as the spec prints it.
const billHeader = "Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount," +
	"Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal," +
	"Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel"

// bill answers GET /download_bill with the report of the orders paid and
// the refunds made between the dates (UTC+8), both included; a refund
// accepted but not executed, or refused, moved no money and is not listed.
// A refund line is written as the spec's example prints one: its own
// number in Order No., External order No. empty ("`"), the refunded
// order's numbers in Refund Order and External Refund Order No. Any day
// is served, today's too: the spec sets no hour from which a day's report
// is complete.
func (s *Server) bill(x *exchange) {
	p := x.params
	if s.scripted(x, p["start_date"], OpBill, sim.RefundRef{}, func(string, sim.Order) {}) {
		return
	}
	if p["merchant_no"] != s.opts.MerchantNO {
		x.refuse("MERCHANT_NOT_FOUND", "merchant_no is not this merchant")
		return
	}
	start, err1 := time.ParseInLocation(billDate, p["start_date"], zone)
	end, err2 := time.ParseInLocation(billDate, p["end_date"], zone)
	if err1 != nil || err2 != nil || end.Before(start) {
		x.refuse("PARAM_ERROR", "start_date and end_date must be yyyyMMdd, start first")
		return
	}
	// The ledger's bill: payments by the time they were paid, executed
	// refunds by the time they were executed, in time order.
	lines := s.Ledger().Bill(start, end.AddDate(0, 0, 1))
	var b strings.Builder
	fmt.Fprintf(&b, "Reconciliation report of %s to %s\n%s\n", p["start_date"], p["end_date"], billHeader)
	bal := map[string]int64{}
	for _, l := range lines {
		at := l.At.In(zone).Format(timeLayout)
		switch l.Kind {
		case sim.BillPay:
			fee := l.Amount * FeeRate / 10000
			bal[l.Currency] += l.Amount - fee
			b.WriteString(join("Collection via WeChat Pay", at, "`"+l.TransactionID, "`"+l.OutTradeNo,
				money(l.Amount-fee, l.Currency), "-", money(bal[l.Currency], l.Currency), money(l.Amount, l.Currency),
				rateOf(l.Currency), money(fee, l.Currency), "-", "-", "-", "-", "-", "-", "-", "WECHATPAYCN"))
		case sim.BillRefund:
			bal[l.Currency] -= l.Amount
			b.WriteString(join("Refund", at, "`"+l.RefundID, "`",
				"-", money(-l.Amount, l.Currency), money(bal[l.Currency], l.Currency), "-", "-", "-",
				money(l.Amount, l.Currency), "`"+l.TransactionID, "`"+l.OutTradeNo, "-", "-", "-", "-", "WECHATPAYCN"))
		default:
			continue // HipoPay has no reversal
		}
		b.WriteByte('\n')
	}
	x.text = []byte(b.String())
}

func rateOf(currency string) string {
	if currency == "CNY" {
		return "1"
	}
	return rates[currency]
}

func money(minor int64, cur string) string {
	if minor < 0 {
		return "-" + decimal(-minor, cur) + " " + cur
	}
	return decimal(minor, cur) + " " + cur
}

func join(f ...string) string { return strings.Join(f, ",") }
