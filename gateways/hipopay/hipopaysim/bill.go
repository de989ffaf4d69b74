package hipopaysim

import (
	"fmt"
	"slices"
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
	end = end.AddDate(0, 0, 1)
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	type line struct {
		at   time.Time
		text func(balance map[string]int64) string
	}
	var lines []line
	for _, o := range s.ledger.Orders() {
		if o.PaidAt.IsZero() || o.Tombstone {
			continue
		}
		if in(o.PaidAt) {
			lines = append(lines, line{o.PaidAt, func(bal map[string]int64) string {
				fee := o.Amount * FeeRate / 10000
				bal[o.Currency] += o.Amount - fee
				return join("Collection via WeChat Pay", o.PaidAt.In(zone).Format(timeLayout),
					"`"+o.TransactionID, "`"+o.OutTradeNo, money(o.Amount-fee, o.Currency), "-", money(bal[o.Currency], o.Currency),
					money(o.Amount, o.Currency), rateOf(o), money(fee, o.Currency), "-", "-", "-", "-", "-", "-", "-", "WECHATPAYCN")
			}})
		}
		for _, r := range o.Refunds {
			if !in(r.At) || !r.Executed() {
				continue
			}
			lines = append(lines, line{r.At, func(bal map[string]int64) string {
				bal[o.Currency] -= r.Amount
				return join("Refund", r.At.In(zone).Format(timeLayout), "`"+r.RefundID, "`",
					"-", money(-r.Amount, o.Currency), money(bal[o.Currency], o.Currency), "-", "-", "-",
					money(r.Amount, o.Currency), "`"+o.TransactionID, "`"+o.OutTradeNo, "-", "-", "-", "-", "WECHATPAYCN")
			}})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return a.at.Compare(b.at) })
	var b strings.Builder
	fmt.Fprintf(&b, "Reconciliation report of %s to %s\n%s\n", p["start_date"], p["end_date"], billHeader)
	bal := map[string]int64{}
	for _, l := range lines {
		b.WriteString(l.text(bal))
		b.WriteByte('\n')
	}
	x.text = []byte(b.String())
}

func rateOf(o sim.Order) string {
	if o.Currency == "CNY" {
		return "1"
	}
	return rates[o.Currency]
}

func money(minor int64, cur string) string {
	if minor < 0 {
		return "-" + decimal(-minor, cur) + " " + cur
	}
	return decimal(minor, cur) + " " + cur
}

func join(f ...string) string { return strings.Join(f, ",") }
