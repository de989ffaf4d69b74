package allinpaysim

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/gateways/sim"
)

// bill answers DOWNLOAD_CHECK_BILL with the ledger's orders paid on
// billDate (UTC+8): one line per payment, one per refund (negative), and
// the summary line, base64 encoded.
func (s *Server) bill(req allinpay.Fields, a *answer) {
	day, err := time.ParseInLocation("20060102", req["billDate"], zone)
	if err != nil {
		a.result("9994", "The format of time inquiry is wrong")
		return
	}
	if !day.Before(startOfDay(s.clock())) {
		a.result("0035", "Transaction is not allowed during the period of time.")
		return
	}
	csv, err := BillCSV(s.ledger.Orders(), day, s.opts.MchNo, s.opts.Currency)
	if err != nil {
		a.result("9999", "Unknown mistake, please contact the administrator.")
		return
	}
	a.f["billData"] = base64.StdEncoding.EncodeToString([]byte(csv))
	a.result("0000", "succeed")
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, zone)
}

// BillCSV renders a reconciliation file in the layout of spec §1.5.3.1
// for the orders of one day: no fees, no discount, settled 1:1 in the
// transaction currency.
func BillCSV(orders []sim.Order, day time.Time, mchNo, currency string) (string, error) {
	cur, err := pos.ParseCurrency(currency)
	if err != nil {
		return "", err
	}
	dec := func(minor int64) string { return pos.Money{Minor: minor, Currency: cur}.Decimal() }
	var b strings.Builder
	var count int
	var total int64
	date := day.Format("20060102")
	line := func(at time.Time, no, tt string, minor int64, ori string) {
		fmt.Fprintf(&b, "%s,%s,Demo Store,T001,%s,%s,,,,,%s,%s,%s,0,%s,%s,0,%s,0,1,%s,\r\n",
			date, mchNo, no, tt, at.In(zone).Format("2006-01-02 15:04:05"), currency, dec(minor), currency, dec(minor), dec(minor), ori)
		count++
		total += minor
	}
	for _, o := range orders {
		if o.PaidAt.IsZero() || !sameDay(o.PaidAt, day) || o.Currency != currency {
			continue
		}
		line(o.PaidAt, o.OutTradeNo, "SALE", o.Amount, "")
		if o.State == sim.Revoked {
			line(o.PaidAt, "V"+o.OutTradeNo, "VOID", -o.Amount, o.OutTradeNo)
		}
		for _, r := range o.Refunds {
			line(r.At, r.OutRefundNo, "REFUND", -r.Amount, o.OutTradeNo)
		}
	}
	fmt.Fprintf(&b, "Summary,%s,%s,%s,0,%s,%d,%s,0\r\n", date, currency, dec(total), dec(total), count, dec(total))
	return b.String(), nil
}
