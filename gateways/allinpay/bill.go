package allinpay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// MaxBillBytes bounds a reconciliation answer: the spec caps the file at
// 5 MB (code 0048), which base64 makes about 6.7 MB.
const MaxBillBytes = 8 << 20

// Bill is one day's reconciliation file (spec §1.5.3.1).
type Bill struct {
	Records []BillRecord
	Summary BillSummary
}

// BillRecord is one detail line: the 22 fields of "Explanation of Data
// Domain of Reconciliation Details". Amounts keep their sign (a refund line
// may be negative). The spec does not say which currency the total and
// discount are in; they are read in the transaction currency, and the
// service charge in the settlement currency.
type BillRecord struct {
	Date               time.Time // transaction date (yyyyMMdd), midnight UTC+8
	MchNo              string
	MerchantName       string
	TerminalNo         string
	OrderNo            string // transaction order number
	TransType          string
	CardNo             string
	CardOrganisation   string    // international credit card organisation
	BatchNo            string    // POS batch number
	TraceNo            string    // POS swift number
	Time               time.Time // transaction time (yyyy-MM-dd HH:mm:ss, UTC+8)
	Currency           pos.Currency
	Amount             pos.Money // payment amount
	Tips               pos.Money
	SettlementCurrency pos.Currency
	SettlementAmount   pos.Money
	Fee                pos.Money // service charge of the transaction
	Total              pos.Money // total amount
	Discount           pos.Money // total discount
	// ExchangeRate is the settlement exchange rate as written: a rate is
	// not money and is never needed as a number by posagent.
	ExchangeRate string
	OriOrderNo   string // original transaction order number (refunds, voids)
	Remarks      string
}

// BillSummary is the last line: "the aggregate information", 9 fields.
// Its amounts are in the settlement currency, the only currency it names.
type BillSummary struct {
	Label              string // the first field ("Summary")
	Date               time.Time
	SettlementCurrency pos.Currency
	PaymentAmount      pos.Money
	Fee                pos.Money // total service charge
	SettlementTotal    pos.Money
	Count              int // total number of transactions
	TransactionTotal   pos.Money
	Discount           pos.Money
}

const (
	billDetailFields  = 22
	billSummaryFields = 9
)

// ParseBill reads a decoded reconciliation file: comma-separated detail
// lines, then the summary line (§1.5.3.1). Lines end in LF or CRLF; a UTF-8
// byte order mark and blank lines are ignored. The spec describes no
// header line; one is tolerated when it is first and its date column holds
// no digit at all (a title, not a damaged date). Any other malformed line is an error naming the line.
func ParseBill(data []byte) (Bill, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	// The spec says only "separated by comma" (§1.5.3.1): a merchant name
	// with a quote in it is data, not a malformed file.
	r.LazyQuotes = true
	var rows [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Bill{}, fmt.Errorf("bill: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, rec)
		lines = append(lines, line)
	}
	if len(rows) == 0 {
		return Bill{}, errors.New("bill: no summary line")
	}
	var b Bill
	sum, err := parseSummary(rows[len(rows)-1])
	if err != nil {
		return Bill{}, fmt.Errorf("bill line %d (summary): %w", lines[len(rows)-1], err)
	}
	b.Summary = sum
	for i, rec := range rows[:len(rows)-1] {
		if i == 0 && len(rec) == billDetailFields && !strings.ContainsAny(rec[0], "0123456789") {
			continue // a header: its date column holds a title
		}
		d, err := parseDetail(rec)
		if err != nil {
			return Bill{}, fmt.Errorf("bill line %d: %w", lines[i], err)
		}
		b.Records = append(b.Records, d)
	}
	return b, nil
}

// Check compares the summary's transaction count with the detail lines.
func (b Bill) Check() error {
	if b.Summary.Count != len(b.Records) {
		return fmt.Errorf("bill: summary counts %d transactions, %d detail lines", b.Summary.Count, len(b.Records))
	}
	return nil
}

func parseDetail(f []string) (BillRecord, error) {
	if len(f) != billDetailFields {
		return BillRecord{}, fmt.Errorf("%d fields, want %d", len(f), billDetailFields)
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	var d BillRecord
	var err error
	if d.Date, err = parseDate(f[0]); err != nil {
		return BillRecord{}, fmt.Errorf("transaction date: %w", err)
	}
	d.MchNo, d.MerchantName, d.TerminalNo, d.OrderNo = f[1], f[2], f[3], f[4]
	d.TransType, d.CardNo, d.CardOrganisation, d.BatchNo, d.TraceNo = f[5], f[6], f[7], f[8], f[9]
	if f[10] != "" {
		if d.Time, err = time.ParseInLocation("2006-01-02 15:04:05", f[10], platformZone); err != nil {
			return BillRecord{}, fmt.Errorf("transaction time %q is not yyyy-MM-dd HH:mm:ss", f[10])
		}
	}
	if d.Currency, err = billCurrency(f[11]); err != nil {
		return BillRecord{}, fmt.Errorf("transaction currency: %w", err)
	}
	if d.SettlementCurrency, err = billCurrency(f[14]); err != nil {
		return BillRecord{}, fmt.Errorf("settlement currency: %w", err)
	}
	for _, a := range []struct {
		name string
		s    string
		cur  pos.Currency
		dst  *pos.Money
	}{
		{"payment amount", f[12], d.Currency, &d.Amount},
		{"tips amount", f[13], d.Currency, &d.Tips},
		{"settlement amount", f[15], d.SettlementCurrency, &d.SettlementAmount},
		{"service charge", f[16], d.SettlementCurrency, &d.Fee},
		{"total amount", f[17], d.Currency, &d.Total},
		{"total discount", f[18], d.Currency, &d.Discount},
	} {
		if *a.dst, err = parseAmount(a.s, a.cur); err != nil {
			return BillRecord{}, fmt.Errorf("%s: %w", a.name, err)
		}
	}
	if f[19] != "" && !isDecimal(f[19]) {
		return BillRecord{}, fmt.Errorf("exchange rate %q is not a decimal", f[19])
	}
	d.ExchangeRate, d.OriOrderNo, d.Remarks = f[19], f[20], f[21]
	return d, nil
}

func parseSummary(f []string) (BillSummary, error) {
	if len(f) != billSummaryFields {
		return BillSummary{}, fmt.Errorf("%d fields, want %d", len(f), billSummaryFields)
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	var s BillSummary
	var err error
	s.Label = f[0]
	if s.Date, err = parseDate(f[1]); err != nil {
		return BillSummary{}, fmt.Errorf("transaction date: %w", err)
	}
	if s.SettlementCurrency, err = billCurrency(f[2]); err != nil {
		return BillSummary{}, fmt.Errorf("settlement currency: %w", err)
	}
	for _, a := range []struct {
		name string
		s    string
		dst  *pos.Money
	}{
		{"payment amount", f[3], &s.PaymentAmount},
		{"total service charge", f[4], &s.Fee},
		{"settlement total", f[5], &s.SettlementTotal},
		{"transaction total", f[7], &s.TransactionTotal},
		{"total discount", f[8], &s.Discount},
	} {
		if *a.dst, err = parseAmount(a.s, s.SettlementCurrency); err != nil {
			return BillSummary{}, fmt.Errorf("%s: %w", a.name, err)
		}
	}
	if f[6] != "" {
		n, err := strconv.Atoi(f[6])
		if err != nil || n < 0 || !isDigits(f[6]) {
			return BillSummary{}, fmt.Errorf("transaction count %q is not a number", f[6])
		}
		s.Count = n
	}
	return s, nil
}

func parseDate(s string) (time.Time, error) {
	if len(s) != 8 || !isDigits(s) {
		return time.Time{}, fmt.Errorf("%q is not yyyyMMdd", s)
	}
	t, err := time.ParseInLocation("20060102", s, platformZone)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date", s)
	}
	return t, nil
}

// billCurrency reads a currency; empty is allowed (a field left null) and
// gives the zero Currency.
func billCurrency(s string) (pos.Currency, error) {
	if s == "" {
		return "", nil
	}
	return pos.ParseCurrency(s)
}

// parseAmount reads "as per ISO currency decimal" amounts: "12.34" HKD is
// 1234 minor units; "-5", "0.5" and "" (zero) are accepted; more decimals
// than the currency has are not. Floats never touch it.
func parseAmount(s string, cur pos.Currency) (pos.Money, error) {
	if s == "" {
		return pos.Money{Currency: cur}, nil
	}
	if cur == "" {
		return pos.Money{}, fmt.Errorf("amount %q without a currency", s)
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(body, ".")
	exp := cur.Exponent()
	if !isDigits(whole) || (dot && !isDigits(frac)) || len(frac) > exp || len(whole) > 15 {
		return pos.Money{}, fmt.Errorf("amount %q is not a %s amount", s, cur)
	}
	frac += strings.Repeat("0", exp-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return pos.Money{}, fmt.Errorf("amount %q: %w", s, err)
	}
	if neg {
		n = -n
	}
	return pos.Money{Minor: n, Currency: cur}, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isDecimal(s string) bool {
	whole, frac, dot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	return isDigits(whole) && (!dot || isDigits(frac))
}

// DownloadBill fetches and parses the reconciliation file of one day
// (DOWNLOAD_CHECK_BILL), available from the next day. The day is the
// platform's: day's date in UTC+8 (20:00 UTC on 2 January is 3 January
// there). A download changes nothing, so every transport failure is
// pos.Unavailable (retry); a refusal is pos.NotFound for "no such bill"
// codes, pos.Unavailable for "processing" and "busy", and pos.Declined
// otherwise, with the platform's code and message. An answer without a
// bill is an error, never an empty day: a day without sales still has its
// summary line.
func (c *Client) DownloadBill(ctx context.Context, day time.Time) (Bill, error) {
	const op = "allinpay.DownloadBill"
	req := billRequest{
		RequestNo:  c.requestNo(),
		Version:    Version,
		AccessCode: c.opts.AccessCode,
		TransType:  "DOWNLOAD_CHECK_BILL",
		SignType:   SignType,
		BillDate:   day.In(platformZone).Format("20060102"),
	}
	body, err := c.encode(req)
	if err != nil {
		return Bill{}, pos.E(pos.Invalid, op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.BillEndpoint, strings.NewReader(body))
	if err != nil {
		return Bill{}, pos.E(pos.Internal, op, err)
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	// Like gateways.Do, never follow a redirect (a 3xx is an error); but a
	// bill may be larger than Do's bound. A download changes nothing, so
	// whatever went wrong, trying again later is safe.
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(hr)
	if err != nil {
		return Bill{}, pos.E(pos.Unavailable, op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxBillBytes+1))
	switch {
	case err != nil:
		return Bill{}, pos.E(pos.Unavailable, op, err)
	case len(raw) > MaxBillBytes:
		return Bill{}, pos.Errorf(pos.Unavailable, op, "answer larger than %d bytes", MaxBillBytes)
	case resp.StatusCode/100 != 2:
		return Bill{}, pos.Errorf(pos.Unavailable, op, "HTTP %d from gateway", resp.StatusCode)
	}
	r, err := c.answer(op, raw, req.RequestNo)
	if err != nil {
		return Bill{}, pos.E(pos.Unavailable, op, err)
	}
	if r.ReturnCode == codeOK && r.ResultCode == "" && r.BillData != "" {
		// resultCode is C (§1.5.3.1): returnCode 0000 with the file is
		// the bill.
		r.ResultCode = codeOK
	}
	v := classify(opBill, r)
	if v.status != gateways.StatusSucceeded {
		kind := pos.Declined
		switch v.out {
		case outNotFound:
			kind = pos.NotFound
		case outProcessing:
			kind = pos.Unavailable
		}
		if r.ReturnCode == "" {
			kind = pos.Unavailable
		}
		return Bill{}, pos.Errorf(kind, op, "bill for %s refused: %s (%s)", req.BillDate, v.reason, v.code)
	}
	if strings.TrimSpace(r.BillData) == "" {
		return Bill{}, pos.Errorf(pos.Unavailable, op, "bill for %s: the answer carries no billData (a day without sales still has its summary line)", req.BillDate)
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(r.BillData), ""))
	if err != nil {
		return Bill{}, pos.Errorf(pos.Unavailable, op, "billData is not base64")
	}
	b, err := ParseBill(data)
	if err != nil {
		return Bill{}, pos.E(pos.Unavailable, op, err)
	}
	return b, nil
}

// billLookback bounds how many days of bills QueryRefund reads.
const billLookback = 7

// refundInBills looks for the refund's own number in the bills from the
// original order's day (at most billLookback days back) to yesterday,
// platform time. A day's bill is final once published and is kept.
func (c *Client) refundInBills(ctx context.Context, req gateways.RefundRequest) (BillRecord, bool) {
	today := startOfPlatformDay(c.now())
	from := today.AddDate(0, 0, -billLookback)
	if s := req.Order.SubmittedAt; !s.IsZero() && startOfPlatformDay(s).After(from) {
		from = startOfPlatformDay(s)
	}
	for day := from; day.Before(today); day = day.AddDate(0, 0, 1) {
		key := day.Format("20060102")
		c.mu.Lock()
		b, ok := c.bills[key]
		c.mu.Unlock()
		if !ok {
			var err error
			if b, err = c.DownloadBill(ctx, day); err != nil {
				c.log.Debug("allinpayRefundBill", "billDate", key, "err", err)
				continue
			}
			c.mu.Lock()
			if c.bills == nil || len(c.bills) > 64 {
				c.bills = map[string]Bill{}
			}
			c.bills[key] = b
			c.mu.Unlock()
		}
		for _, l := range b.Records {
			if l.OrderNo == req.OutRefundNo {
				return l, true
			}
		}
	}
	return BillRecord{}, false
}

func startOfPlatformDay(t time.Time) time.Time {
	y, m, d := t.In(platformZone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, platformZone)
}
