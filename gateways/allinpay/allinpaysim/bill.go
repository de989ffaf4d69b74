package allinpaysim

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/sim"
)

// bill answers DOWNLOAD_CHECK_BILL with the ledger's day (UTC+8): one
// line per payment, reversal and refund (negative), then the summary
// line, base64. The bill of a day is available from the next day
// (§1.5.3.1: "can be made in the next day"); today's is 0035 unless
// Options.SameDayBill, which serves it provisional (what moved so far; the
// file has no field to say so, the log line does).
func (s *Server) bill(x *exchange) {
	day, err := time.ParseInLocation("20060102", x.req["billDate"], zone)
	if err != nil {
		x.result("9994")
		return
	}
	ready, provisional := s.BillReady(day, zone, s.clock())
	if !ready {
		x.result("0035")
		return
	}
	if provisional {
		s.log.Info("serving a provisional bill of the day still running (SameDayBill)", "billDate", x.req["billDate"])
	}
	csv, err := BillCSV(s.Bill(day, zone), day, s.opts.MchNo, s.opts.Currency)
	if err != nil {
		x.result("9999")
		return
	}
	x.ans["billData"] = base64.StdEncoding.EncodeToString([]byte(csv))
	x.result("0000")
}

// BillCSV renders a reconciliation file in the layout of §1.5.3.1 (22
// detail fields, 9 summary fields, comma separated, one line each) for
// one day's ledger lines: no fees, no discount, settled 1:1 in the
// transaction currency; a reversal is a VOID line and a refund a REFUND
// line, both negative, with their own number and the original's.
func BillCSV(lines []sim.BillLine, day time.Time, mchNo, currency string) (string, error) {
	cur, err := pos.ParseCurrency(currency)
	if err != nil {
		return "", err
	}
	dec := func(minor int64) string { return pos.Money{Minor: minor, Currency: cur}.Decimal() }
	var b strings.Builder
	var total int64
	date := day.In(zone).Format("20060102")
	n := 0
	for _, l := range lines {
		if l.Currency != currency {
			continue
		}
		no, tt, amount, ori := l.OutTradeNo, "SALE", l.Amount, ""
		switch l.Kind {
		case sim.BillReverse:
			no, tt, amount, ori = "V"+l.OutTradeNo, "VOID", -l.Amount, l.OutTradeNo
		case sim.BillRefund:
			no, tt, amount, ori = l.OutRefundNo, "REFUND", -l.Amount, l.OutTradeNo
		}
		fmt.Fprintf(&b, "%s,%s,Demo Store,T001,%s,%s,,,,,%s,%s,%s,0,%s,%s,0,%s,0,1,%s,\r\n",
			date, mchNo, no, tt, l.At.In(zone).Format("2006-01-02 15:04:05"), currency, dec(amount), currency, dec(amount), dec(amount), ori)
		n++
		total += amount
	}
	fmt.Fprintf(&b, "Summary,%s,%s,%s,0,%s,%d,%s,0\r\n", date, currency, dec(total), dec(total), n, dec(total))
	return b.String(), nil
}
