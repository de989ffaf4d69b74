package hipopay_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/hipopay"
	"github.com/posagent/posagent/gateways/sim"
)

// specReport is the spec's report example as it prints it.
const specReport = "Test: company's reconciliation report of 20190101 to 20190120\n" +
	"Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n" +
	"Collection via WeChat Pay,2019-01-02 10:55:10,`2019010210551024660612990,`13260056057_wechat_1546397710000,0.99 HKD,-,1.06 HKD,1.00 HKD,1,0.01 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n" +
	"Collection via WeChat Pay,2019-01-02 11:07:05,`2019010211070452703917004,`13260056057_wechat_1546398424000,0.99 HKD,-,2.05 HKD,1.00 HKD,1,0.00 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n" +
	"Refund,2019-01-04 10:50:34,`2019010410503295208356067,`,-,-0.99 HKD,1.06 HKD,-,-,-,1.00 HKD,`2019010211070452703917004,`13260056057_wechat_1546398424000,-,-,-,-,WECHATPAYCN\n"

// The adapter is a gateways.BillSource: the spec's example normalised (a
// collection by its transaction amount, not its credit; a refund of the
// order in External Refund Order No., by its refund amount, named by its
// refund_no as the example leaves External order No. empty), the day in
// UTC+8.
func TestDailyBillSpecExample(t *testing.T) {
	u := &unsigned{}
	var src gateways.BillSource = u.client(t, specReport, nil)
	if src.BillZone().String() != hipopay.PlatformZone.String() {
		t.Errorf("BillZone = %v", src.BillZone())
	}
	at := time.Date(2019, 1, 1, 17, 0, 0, 0, time.UTC) // 2 Jan in UTC+8
	b, err := src.DailyBill(t.Context(), at)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Day.Equal(time.Date(2019, 1, 2, 0, 0, 0, 0, hipopay.PlatformZone)) || u.query == "" {
		t.Errorf("day = %v (query %q)", b.Day, u.query)
	}
	want := []gateways.BillLine{
		{Kind: gateways.BillPayment, OutTradeNo: "13260056057_wechat_1546397710000", TransactionID: "2019010210551024660612990", Amount: hkd(100),
			At: time.Date(2019, 1, 2, 10, 55, 10, 0, hipopay.PlatformZone), Type: "Collection via WeChat Pay"},
		{Kind: gateways.BillPayment, OutTradeNo: "13260056057_wechat_1546398424000", TransactionID: "2019010211070452703917004", Amount: hkd(100),
			At: time.Date(2019, 1, 2, 11, 7, 5, 0, hipopay.PlatformZone), Type: "Collection via WeChat Pay"},
		{Kind: gateways.BillRefund, OutTradeNo: "13260056057_wechat_1546398424000", TransactionID: "2019010211070452703917004", RefundID: "2019010410503295208356067",
			Amount: hkd(100), At: time.Date(2019, 1, 4, 10, 50, 34, 0, hipopay.PlatformZone), Type: "Refund"},
	}
	if len(b.Lines) != len(want) {
		t.Fatalf("lines = %+v", b.Lines)
	}
	for i := range want {
		if g := b.Lines[i]; g != want[i] {
			t.Errorf("line %d = %+v\nwant %+v", i, g, want[i])
		}
	}
}

// An empty answer is no report (an error, not a day without sales); a
// header alone is an empty day; a line of a type this reading does not
// know that names an order is an error, one that names none (a
// withdrawal) is left out; the signature is required with
// require_signed_answers, and a signed report then passes.
func TestDailyBillRefusesWhatItCannotRead(t *testing.T) {
	header := "Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n"
	day := time.Now()
	for name, body := range map[string]string{
		"empty":        "",
		"caption only": "Reconciliation report of 20261201 to 20261201\n",
		"unknown type": header + "Chargeback,2019-01-04 10:50:34,`1,`PA1,-,-1.00 HKD,1.06 HKD,1.00 HKD,-,-,-,-,-,-,-,-,-,WECHATPAYCN\n",
		"no amount":    header + "Collection via WeChat Pay,2019-01-02 10:55:10,`1,`PA1,-,-,-,-,1,-,-,-,-,-,-,-,-,WECHATPAYCN\n",
	} {
		if b, err := (&unsigned{}).client(t, body, nil).DailyBill(t.Context(), day); !pos.Match(pos.Unknown, err) {
			t.Errorf("%s: %+v, %v; want a pos.Unknown error", name, b, err)
		}
	}
	b, err := (&unsigned{}).client(t, header, nil).DailyBill(t.Context(), day)
	if err != nil || len(b.Lines) != 0 {
		t.Errorf("header only = %+v, %v; want an empty day", b, err)
	}
	withdrawal := header + "Withdrawal,2019-01-05 09:00:00,`W1,`,-,-2.00 HKD,0.05 HKD,-,-,-,-,-,-,0.01 HKD,-,-,-,-\n"
	if b, err := (&unsigned{}).client(t, withdrawal, nil).DailyBill(t.Context(), day); err != nil || len(b.Lines) != 0 {
		t.Errorf("a withdrawal = %+v, %v; want left out", b, err)
	}
	required := func(o *hipopay.Options) { o.RequireSignedAnswers = true }
	if _, err := (&unsigned{}).client(t, specReport, required).DailyBill(t.Context(), day); !pos.Match(pos.Unknown, err) {
		t.Errorf("unsigned report with require_signed_answers: %v, want a pos.Unknown error", err)
	}
	key, err := hipopay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stamp := hipopay.Timestamp(time.Now())
		sig, err := hipopay.Sign(key, hipopay.BillSigningString([]byte(specReport), stamp))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set(hipopay.HeaderTimestamp, stamp)
		w.Header().Set(hipopay.HeaderSignature, sig)
		_, _ = w.Write([]byte(specReport))
	}))
	defer ts.Close()
	o := clientOptions(keySet, ts.URL)
	required(&o)
	c, err := hipopay.New(o, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := c.DailyBill(t.Context(), day); err != nil || len(b.Lines) != 3 {
		t.Errorf("signed report with require_signed_answers = %+v, %v", b, err)
	}
}

// Against the simulator: a paid order and its executed refund, the day's
// lines as the reconciliation needs them; a failed order is not there.
func TestDailyBillFromSimulator(t *testing.T) {
	t.Parallel()
	p := newPair(t, "")
	paid := seed(t, p, 1000, sim.Behaviour{})
	seed(t, p, 193, sim.Behaviour{})
	res, err := p.client.Refund(ctxFor(t, callTimeout), gateways.RefundRequest{Order: paid, OutRefundNo: "RF1", Amount: hkd(250)})
	if err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Refund = %+v, %v", res, err)
	}
	b, err := p.client.DailyBill(ctxFor(t, callTimeout), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Lines) != 2 {
		t.Fatalf("lines = %+v", b.Lines)
	}
	pay, ref := b.Lines[0], b.Lines[1]
	if pay.Kind != gateways.BillPayment || pay.OutTradeNo != paid.OutTradeNo || pay.TransactionID != paid.TransactionID || pay.Amount != hkd(1000) {
		t.Errorf("payment line = %+v", pay)
	}
	if ref.Kind != gateways.BillRefund || ref.OutTradeNo != paid.OutTradeNo || ref.RefundID != res.RefundID || ref.RefundID == "" || ref.Amount != hkd(250) {
		t.Errorf("refund line = %+v (refund_no %s)", ref, res.RefundID)
	}
}
