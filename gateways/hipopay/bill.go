package hipopay

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// Bill is a reconciliation report (GET /download_bill): the lines of the
// returned text file in order.
type Bill struct {
	// Title is a caption line before the header, when the file has one
	// (the spec's example begins "Test: company's reconciliation report
	// of 20190101 to 20190120").
	Title   string
	Records []BillRecord
	// HasHeader: the header line was there. A body without one (empty, or
	// a caption only) is no report at all, not a day without sales.
	HasHeader bool
}

// BillRecord is one line of the report, its 18 columns typed. An amount
// column holding "-" is the zero Money (no currency); amounts keep their
// sign ("-0.99 HKD" is a debit). Order numbers lose the "`" the platform
// prefixes them with (a spreadsheet's text marker).
type BillRecord struct {
	Type            string    // Transaction Type: "Collection via WeChat Pay", "Refund", ...
	Time            time.Time // Transaction Time, read in PlatformZone
	PaymentNo       string    // Order No.
	OutTradeID      string    // External order No.
	Credit          pos.Money
	Debit           pos.Money
	Balance         pos.Money
	Amount          pos.Money // Transaction Amount
	SettlementRate  string    // Exchange Rate Adopted for Settlement, as written
	Fee             pos.Money // Service Fee
	RefundAmount    pos.Money
	RefundOrder     string // Refund Order: the refunded payment's Order No.
	OutRefundID     string // External Refund Order No. (see doc.go)
	WithdrawalFee   pos.Money
	ConvertedTo     string // Converted Currency, as written ("" for "-")
	ConversionRate  string // Exchange Rate Adopted for Conversion, as written
	ConvertedAmount pos.Money
	Channel         string // Payment Channel: "WECHATPAYCN", ...
}

// billColumns is the header line of the report, which names the columns.
var billColumns = []string{"Transaction Type", "Transaction Time", "Order No.", "External order No.", "Credit", "Debit",
	"Balance", "Transaction Amount", "Exchange Rate Adopted for Settlement", "Service Fee", "Refund Amount", "Refund Order",
	"External Refund Order No.", "Fee for Withdrawal", "Converted Currency", "Exchange Rate Adopted for Conversion",
	"Amount After Conversion", "Payment Channel"}

// ParseBill reads a reconciliation report: an optional caption line, the
// header line, then one comma-separated line per movement. LF or CRLF; a
// UTF-8 byte order mark and blank lines are ignored. A line with a
// different number of columns, or a value that does not parse, is an
// error naming the line.
func ParseBill(data []byte) (Bill, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	var b Bill
	header := false
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Bill{}, fmt.Errorf("bill: %w", err)
		}
		line, _ := r.FieldPos(0)
		switch {
		case len(rec) == 1 && strings.TrimSpace(rec[0]) == "":
			continue
		case !header && len(b.Records) == 0 && len(rec) == 1 && b.Title == "":
			b.Title = strings.TrimSpace(rec[0])
			continue
		case !header && len(b.Records) == 0 && len(rec) > 0 && strings.TrimSpace(rec[0]) == billColumns[0]:
			if len(rec) != len(billColumns) {
				return Bill{}, fmt.Errorf("bill line %d: header has %d columns, want %d", line, len(rec), len(billColumns))
			}
			header = true
			b.HasHeader = true
			continue
		}
		d, err := parseBillRecord(rec)
		if err != nil {
			return Bill{}, fmt.Errorf("bill line %d: %w", line, err)
		}
		b.Records = append(b.Records, d)
	}
	return b, nil
}

func parseBillRecord(f []string) (BillRecord, error) {
	if len(f) != len(billColumns) {
		return BillRecord{}, fmt.Errorf("%d columns, want %d", len(f), len(billColumns))
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	d := BillRecord{Type: f[0], PaymentNo: text(f[2]), OutTradeID: text(f[3]), SettlementRate: dash(f[8]),
		RefundOrder: text(f[11]), OutRefundID: text(f[12]), ConvertedTo: dash(f[14]), ConversionRate: dash(f[15]), Channel: dash(f[17])}
	if d.Type == "" {
		return BillRecord{}, errors.New("no transaction type")
	}
	t, err := time.ParseInLocation(TimeLayout, f[1], PlatformZone)
	if err != nil {
		return BillRecord{}, fmt.Errorf("transaction time %q: not %s", f[1], TimeLayout)
	}
	d.Time = t
	for _, a := range []struct {
		col int
		dst *pos.Money
	}{{4, &d.Credit}, {5, &d.Debit}, {6, &d.Balance}, {7, &d.Amount}, {9, &d.Fee}, {10, &d.RefundAmount}, {13, &d.WithdrawalFee}, {16, &d.ConvertedAmount}} {
		m, err := ParseBillAmount(f[a.col])
		if err != nil {
			return BillRecord{}, fmt.Errorf("%s: %w", billColumns[a.col], err)
		}
		*a.dst = m
	}
	return d, nil
}

// text strips the "`" text marker and reads "-" (or a lone marker) as empty.
func text(s string) string { return dash(strings.TrimPrefix(s, "`")) }

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// ParseBillAmount reads an amount column: "0.99 HKD", "-0.99 HKD", or "-"
// (none: the zero Money). The decimals may not exceed the currency's
// (none for JPY and KRW); zero is allowed ("0.00 HKD", a fee).
func ParseBillAmount(s string) (pos.Money, error) {
	if s == "-" || s == "" {
		return pos.Money{}, nil
	}
	num, cur, ok := strings.Cut(s, " ")
	if !ok {
		return pos.Money{}, fmt.Errorf("amount %q has no currency", s)
	}
	c, err := pos.ParseCurrency(strings.TrimSpace(cur))
	if err != nil {
		return pos.Money{}, fmt.Errorf("amount %q: %w", s, err)
	}
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	whole, frac, hasDot := strings.Cut(num, ".")
	if !digits(whole) || hasDot && !digits(frac) || len(frac) > c.Exponent() || len(whole) > 12 {
		return pos.Money{}, fmt.Errorf("amount %q is not a decimal in %s", s, c)
	}
	frac += strings.Repeat("0", c.Exponent()-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return pos.Money{}, fmt.Errorf("amount %q: %w", s, err)
	}
	if neg {
		n = -n
	}
	return pos.Money{Minor: n, Currency: c}, nil
}

// BillDate is the date format of start_date and end_date.
const BillDate = "20060102"

// DownloadBill fetches the reconciliation report of one day: the calendar
// date of day in the platform's zone (UTC+8), sent as start_date and
// end_date. See DownloadBillRange.
func (c *Client) DownloadBill(ctx context.Context, day time.Time) (Bill, error) {
	return c.DownloadBillRange(ctx, day, day)
}

// DownloadBillRange fetches the report from one date to another, both
// included (GET /download_bill, Version header BillVersion). The platform
// keeps about three months. The text answer is verified like a JSON one,
// its signed text being the body itself, "," and the Timestamp header (the
// spec signs parameters, and a file has none; see doc.go). A JSON answer is
// a refusal: a pos.Invalid error with the platform's code. Transport and
// signature failures are pos.Unavailable (not sent) or pos.Unknown.
func (c *Client) DownloadBillRange(ctx context.Context, from, to time.Time) (Bill, error) {
	const op = "hipopay.DownloadBill"
	// HipoPay's day runs in UTC+8 (review H8): a till in UTC after 16:00
	// is already on the platform's next day.
	fy, fm, fd := from.In(PlatformZone).Date()
	ty, tm, td := to.In(PlatformZone).Date()
	start := time.Date(fy, fm, fd, 0, 0, 0, 0, time.UTC)
	end := time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)
	if end.Before(start) {
		return Bill{}, pos.Errorf(pos.Invalid, op, "end date %s is before start date %s", end.Format(BillDate), start.Format(BillDate))
	}
	p := Params{"merchant_no": c.opts.MerchantNO, "start_date": start.Format(BillDate), "end_date": end.Format(BillDate)}
	raw, hdr, err := c.send(ctx, op, http.MethodGet, PathBill, c.opts.BillVersion, p)
	if err != nil {
		return Bill{}, err
	}
	if firstByte(raw) == '{' {
		a, err := c.verifyAnswer(raw, hdr)
		if err != nil {
			return Bill{}, pos.E(pos.Unknown, op, err)
		}
		env, err := readEnvelope(a)
		if err != nil || env.success {
			return Bill{}, pos.Errorf(pos.Unknown, op, "a JSON answer where the report was expected (%v)", err)
		}
		return Bill{}, pos.Errorf(pos.Invalid, op, "report refused: %s", reason(env))
	}
	// The spec describes no signature on the report: trusted over TLS
	// from the configured host, a Signature header verified when present
	// or required (Options.RequireSignedAnswers; review H2).
	if err := c.checkAnswerSignature(hdr, func(ts string) string { return BillSigningString(raw, ts) }); err != nil {
		return Bill{}, pos.E(pos.Unknown, op, fmt.Errorf("report not trusted: %w", err))
	}
	b, err := ParseBill(raw)
	if err != nil {
		return Bill{}, pos.E(pos.Unknown, op, err)
	}
	return b, nil
}

// BillSigningString is the signed text of a report: the body as sent, ","
// and the Timestamp header.
func BillSigningString(body []byte, timestamp string) string {
	return string(body) + "," + timestamp
}
