package hipopay

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways"
)

// Every parser of received bytes must refuse garbage without panicking,
// and nothing unsigned may pass.

func FuzzAnswerParams(f *testing.F) {
	for _, s := range []string{`{"is_success":true,"response":{"a":"1","n":1.5,"o":{"x":[1]}}}`, `{"a":null}`, `{"a":"1","a":"2"}`,
		`{"response":{"is_success":1}}`, `{`, `[]`, `{"a":"\ud800"}`, "\xff", `{"a":1} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := AnswerParams(b)
		if err != nil {
			return
		}
		_ = p.SigningString("1")
		if e, err := readEnvelope(p); err == nil {
			_ = reason(e)
		}
		if res, err := paymentResult(p); err == nil && res.TransactionID == "" {
			t.Fatal("a payment without payment_no")
		}
	})
}

func FuzzFormParams(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a=1&a=2", "%zz", "a", "=", "&&"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := FormParams(b); err == nil {
			_ = p.Encode()
		}
	})
}

func fuzzClient(f *testing.F) *Client {
	keys(f)
	return &Client{opts: Options{MerchantNO: "WC8888888888888", MaxClockSkew: time.Hour}, key: testKey, platform: &testKey.PublicKey,
		log: slog.New(slog.DiscardHandler), now: func() time.Time { return goldenTime }}
}

// signed returns the headers that sign p for the fuzz client.
func signed(f *testing.F, p Params) http.Header {
	ts := Timestamp(goldenTime)
	sig, err := Sign(testKey, p.SigningString(ts))
	if err != nil {
		f.Fatal(err)
	}
	h := http.Header{}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, sig)
	return h
}

func FuzzVerifyAnswer(f *testing.F) {
	c := fuzzClient(f)
	body := []byte(`{"is_success":true,"response":{"status":"PAID","payment_no":"1","out_trade_id":"PA1","amount":"1.00","currency":"HKD"}}`)
	p, _ := AnswerParams(body)
	h := signed(f, p)
	f.Add(body, h.Get(HeaderTimestamp), h.Get(HeaderSignature))
	f.Add([]byte(`{"is_success":false,"error":"PAYMENT_NOT_FOUND"}`), "1704164645", "AAAA")
	f.Fuzz(func(t *testing.T, b []byte, ts, sig string) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		a, err := c.verifyAnswer(b, h)
		if err != nil {
			return
		}
		if _, err := readEnvelope(a); err == nil {
			if res, err := paymentResult(a); err == nil && (res.Status < gateways.StatusUnknown || res.Status > gateways.StatusFailed) {
				t.Fatalf("status %d", res.Status)
			}
		}
	})
}

func FuzzParseNotification(f *testing.F) {
	c := fuzzClient(f)
	p := Params{"status": "PAID", "trade_type": "MINIPROGRAM", "payment_no": "2018081316331654230251111", "currency": "HKD",
		"amount": "0.10", "finish_time": "2018-08-13 16:33:16", "out_trade_id": "d2849e8140a6"}
	h := signed(f, p)
	f.Add([]byte(p.Encode()), h.Get(HeaderTimestamp), h.Get(HeaderSignature))
	j, _ := json.Marshal(p)
	f.Add(j, h.Get(HeaderTimestamp), h.Get(HeaderSignature))
	f.Add([]byte("success"), "", "")
	f.Fuzz(func(t *testing.T, b []byte, ts, sig string) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		n, err := c.ParseNotification(h, b)
		if err == nil && (n.OutTradeNo == "" || n.ID == "" || n.Result.TransactionID == "") {
			t.Fatalf("accepted an incomplete notification: %+v", n)
		}
	})
}

func FuzzParseBill(f *testing.F) {
	f.Add([]byte("Caption\nTransaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n" +
		"Collection via WeChat Pay,2019-01-02 10:55:10,`2019010210551024660612990,`13260056057_wechat_1546397710000,0.99 HKD,-,1.06 HKD,1.00 HKD,1,0.01 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n"))
	f.Add([]byte("Refund,2019-01-04 10:50:34,`1,`,-,-0.99 HKD,1.06 HKD,-,-,-,1.00 HKD,`2,`3,-,-,-,-,WECHATPAYCN\r\n"))
	f.Add([]byte("\"a,b\",\"\n"))
	f.Add([]byte("\xef\xbb\xbf\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bill, err := ParseBill(b)
		if err != nil {
			return
		}
		for _, r := range bill.Records {
			if r.Type == "" || r.Time.IsZero() {
				t.Fatalf("record without type or time: %+v", r)
			}
		}
	})
}

func FuzzParseBillAmount(f *testing.F) {
	for _, s := range []string{"0.99 HKD", "-0.99 HKD", "-", "12 JPY", "1.5 JPY", "1 XYZ", "--1 HKD", "999999999999.99 HKD", " HKD", "1. HKD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseBillAmount(s)
		if err == nil && m.Minor != 0 && !m.Currency.Valid() {
			t.Fatalf("%q = %+v", s, m)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"0.1490046489450470854690666349", "1", "0", "1e9", "1/3", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseRate(s); err == nil && r.Sign() <= 0 {
			t.Fatalf("%q = %v", s, r)
		}
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"1704164645", "1704164645000", "", "9999999999999", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _, _ = ParseTimestamp(s) })
}
