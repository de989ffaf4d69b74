package hipopay_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/hipopay"
)

// unsigned answers every request with body and no Signature header, and
// records the last request's query.
type unsigned struct {
	mu    sync.Mutex
	query string
	hits  int
}

func (u *unsigned) client(t *testing.T, body string, mutate func(*hipopay.Options)) *hipopay.Client {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.query, u.hits = r.URL.RawQuery, u.hits+1
		u.mu.Unlock()
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	o := clientOptions(keySet, ts.URL)
	if mutate != nil {
		mutate(&o)
	}
	c, err := hipopay.New(o, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The spec's Check Payment Order success example, as it prints it but as
// JSON, served without Timestamp or Signature headers (the spec signs
// requests and notifications, not answers).
const specPaid = `{"is_success": true, "response": {"amount": "0.02", "currency": "HKD", "exchange_rate": "0.881890",
 "out_trade_id": "2746847384112837273872", "payment_no": "2018071823332342210483065", "status": "PAID",
 "product_info": "Alipay App Pay", "trade_time": "2018-07-18 23:33:23", "trade_type": "APP"}}`

func TestUnsignedAnswersTrustedUnlessRequired(t *testing.T) {
	ref := gateways.OrderRef{OutTradeNo: "2746847384112837273872"}
	res, err := (&unsigned{}).client(t, specPaid, nil).Query(t.Context(), ref)
	if err != nil || res.Status != gateways.StatusSucceeded || res.Amount != (pos.Money{Minor: 2, Currency: "HKD"}) || res.OutTradeNo != ref.OutTradeNo {
		t.Fatalf("Query of the spec's unsigned answer = %+v, %v; want Succeeded 0.02 HKD", res, err)
	}
	_, err = (&unsigned{}).client(t, specPaid, func(o *hipopay.Options) { o.RequireSignedAnswers = true }).Query(t.Context(), ref)
	if !pos.Match(pos.Unknown, err) {
		t.Errorf("with require_signed_answers: %v, want a pos.Unknown error", err)
	}
	// The bill, unsigned, likewise.
	bill := "Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n"
	if _, err := (&unsigned{}).client(t, bill, nil).DownloadBill(t.Context(), time.Now()); err != nil {
		t.Errorf("unsigned bill: %v", err)
	}
	if _, err := (&unsigned{}).client(t, bill, func(o *hipopay.Options) { o.RequireSignedAnswers = true }).DownloadBill(t.Context(), time.Now()); !pos.Match(pos.Unknown, err) {
		t.Errorf("unsigned bill with require_signed_answers: %v, want a pos.Unknown error", err)
	}
}

// A Signature header that is there must verify, required or not.
func TestPresentSignatureStillVerified(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(hipopay.HeaderTimestamp, hipopay.Timestamp(time.Now()))
		w.Header().Set(hipopay.HeaderSignature, "bm90IGEgc2lnbmF0dXJl")
		_, _ = w.Write([]byte(specPaid))
	}))
	defer ts.Close()
	c, err := hipopay.New(clientOptions(keySet, ts.URL), gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Query(t.Context(), gateways.OrderRef{OutTradeNo: "2746847384112837273872"}); !pos.Match(pos.Unknown, err) {
		t.Errorf("Query with a wrong signature = %+v, %v; want a pos.Unknown error", res, err)
	}
}

// Identifiers are limited to what raw and URL-encoded signing agree on;
// anything else is refused before sending.
func TestIdentifiersBothReadingsAgreeOn(t *testing.T) {
	u := &unsigned{}
	c := u.client(t, specPaid, nil)
	for _, id := range []string{"ORD 1/2", "a+b", "x:y", "名", "a&b=c", "50%"} {
		_, err := c.Query(t.Context(), gateways.OrderRef{OutTradeNo: id})
		if !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), "only letters, digits") {
			t.Errorf("Query(%q) = %v, want Invalid naming the characters allowed", id, err)
		}
		_, err = c.Refund(t.Context(), gateways.RefundRequest{Order: gateways.OrderRef{TransactionID: "P1", Amount: hkd(100)}, OutRefundNo: id, Amount: hkd(10)})
		if !pos.Match(pos.Invalid, err) {
			t.Errorf("Refund with out_refund_id %q = %v, want Invalid", id, err)
		}
	}
	if u.hits != 0 {
		t.Errorf("%d requests were sent; want none", u.hits)
	}
	if _, err := c.Query(t.Context(), gateways.OrderRef{OutTradeNo: "2746847384112837273872"}); err != nil {
		t.Errorf("a digits-only id: %v", err)
	}
	if res, err := c.Query(t.Context(), gateways.OrderRef{OutTradeNo: "A-b_c.9"}); err != nil || res.Mismatch == "" {
		t.Errorf("Query(A-b_c.9) = %+v, %v: want it sent (the fake answers for another order: Mismatch)", res, err)
	}
}

// The refunded amount in the answer is compared with the amount asked.
func TestRefundAmountCompared(t *testing.T) {
	body := answer(map[string]any{"status": "SUCCESS", "refund_no": "9", "out_refund_id": "RF1", "payment_no": "P1", "refund_amount": "88.80"})
	res, err := (&unsigned{}).client(t, body, nil).Refund(t.Context(), gateways.RefundRequest{
		Order: gateways.OrderRef{TransactionID: "P1", Amount: hkd(10000)}, OutRefundNo: "RF1", Amount: hkd(888)})
	if err != nil || res.Status != gateways.StatusUnknown || res.Mismatch == "" || res.RefundAmount != hkd(8880) {
		t.Fatalf("Refund asked 8.88, answered 88.80 = %+v, %v; want Unknown with Mismatch", res, err)
	}
	body = answer(map[string]any{"status": "SUCCESS", "refund_no": "9", "out_refund_id": "RF1", "payment_no": "P1", "refund_amount": "8.88"})
	res, err = (&unsigned{}).client(t, body, nil).Refund(t.Context(), gateways.RefundRequest{
		Order: gateways.OrderRef{TransactionID: "P1", Amount: hkd(10000)}, OutRefundNo: "RF1", Amount: hkd(888)})
	if err != nil || res.Status != gateways.StatusSucceeded || res.OutRefundNo != "RF1" || res.RefundAmount != hkd(888) {
		t.Fatalf("Refund = %+v, %v; want Succeeded naming RF1 and 8.88", res, err)
	}
}

// Bill dates are the platform's (UTC+8): 17:00 UTC is the next day there.
func TestBillDateInPlatformZone(t *testing.T) {
	u := &unsigned{}
	bill := "Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n"
	c := u.client(t, bill, nil)
	if _, err := c.DownloadBill(t.Context(), time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u.query, "start_date=20260302") || !strings.Contains(u.query, "end_date=20260302") {
		t.Errorf("query %q, want the UTC+8 date 20260302", u.query)
	}
}

// Only PAID is believed from a notification; another status is queried.
func TestNotificationOnlyPaidBelieved(t *testing.T) {
	key, err := hipopay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hipopay.New(clientOptions(keySet, "http://127.0.0.1:9"), gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]gateways.Status{"PAID": gateways.StatusSucceeded, "FAIL": gateways.StatusUnknown, "EXPIRED": gateways.StatusUnknown, "INIT": gateways.StatusUnknown} {
		p := hipopay.Params{"status": status, "payment_no": "P1", "out_trade_id": "PA1", "amount": "1.00", "currency": "HKD", "trade_type": "MINIPROGRAM"}
		ts := hipopay.Timestamp(time.Now())
		sig, err := hipopay.Sign(key, p.SigningString(ts))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(hipopay.HeaderTimestamp, ts)
		h.Set(hipopay.HeaderSignature, sig)
		n, err := c.ParseNotification(h, []byte(p.Encode()))
		if err != nil || n.Result.Status != want || n.Result.OutTradeNo != "PA1" {
			t.Errorf("notification status %s = %+v, %v; want %s", status, n.Result, err, want)
		}
	}
}

// ForexQuote (gateways.ForexQuoter, for the display's CNY equivalent)
// turns the platform's "target currency / CNY" into CNY per unit.
func TestForexQuote(t *testing.T) {
	body := answer(map[string]any{"currency": "USD", "forex_rate": "0.1490046489450470854690666349"})
	var q gateways.ForexQuoter = (&unsigned{}).client(t, body, nil)
	fq, err := q.ForexQuote(t.Context(), "USD")
	if err != nil || fq.Currency != "USD" || fq.At.IsZero() {
		t.Fatalf("ForexQuote = %+v, %v", fq, err)
	}
	if f, _ := fq.CNYPerUnit.Float64(); f < 6.71 || f > 6.72 {
		t.Errorf("CNY per USD = %v, want about 6.711", f)
	}
}
