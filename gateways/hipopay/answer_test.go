package hipopay_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/hipopay"
)

// platform answers every request with body, signed with the platform key
// of keySet, and returns a client of it.
func platform(t *testing.T, status int, body string) *hipopay.Client {
	t.Helper()
	key, err := hipopay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := hipopay.Timestamp(time.Now())
		text := hipopay.BillSigningString([]byte(body), now)
		if p, err := hipopay.AnswerParams([]byte(body)); err == nil {
			text = p.SigningString(now)
		}
		sig, err := hipopay.Sign(key, text)
		if err != nil {
			t.Error(err)
		}
		w.Header().Set(hipopay.HeaderTimestamp, now)
		w.Header().Set(hipopay.HeaderSignature, sig)
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	c, err := hipopay.New(clientOptions(keySet, ts.URL), gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func answer(resp map[string]any) string {
	b, _ := json.Marshal(map[string]any{"is_success": true, "response": resp})
	return string(b)
}

// Signed answers that still are not a trustworthy answer to the question.
func TestUntrustworthyAnswers(t *testing.T) {
	ref := gateways.OrderRef{OutTradeNo: "PA1", TransactionID: "P1", Amount: hkd(100)}
	paid := map[string]any{"status": "PAID", "payment_no": "P1", "out_trade_id": "PA1", "amount": "1.00", "currency": "HKD"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range paid {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for _, c := range []struct {
		name   string
		status int
		body   string
	}{
		{"no status", 200, answer(with("status", nil))},
		{"damaged amount", 200, answer(with("amount", "1.001"))},
		{"unknown currency", 200, answer(with("currency", "XYZ"))},
		{"is_success missing", 200, `{"response":{"status":"PAID"}}`},
		{"redirect", 302, answer(paid)},
		{"not JSON", 200, "PAID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := platform(t, c.status, c.body).Query(t.Context(), ref)
			if !pos.Match(pos.Unknown, err) {
				t.Errorf("Query = %+v, %v; want a pos.Unknown error", res, err)
			}
		})
	}
	// About another order: Unknown with Mismatch, never adopted.
	for name, body := range map[string]string{
		"another payment_no":   answer(with("payment_no", "P2")),
		"another out_trade_id": answer(with("out_trade_id", "PA2")),
		"another amount":       answer(with("amount", "2.00")),
	} {
		t.Run(name, func(t *testing.T) {
			res, err := platform(t, 200, body).Query(t.Context(), ref)
			if err != nil || res.Status != gateways.StatusUnknown || res.Mismatch == "" {
				t.Errorf("Query = %+v, %v; want Unknown with Mismatch", res, err)
			}
		})
	}
	t.Run("unknown status", func(t *testing.T) {
		res, err := platform(t, 200, answer(with("status", "REFUNDING"))).Query(t.Context(), ref)
		if err != nil || res.Status != gateways.StatusUnknown {
			t.Errorf("Query = %+v, %v; want StatusUnknown", res, err)
		}
	})
	t.Run("refund of another number", func(t *testing.T) {
		body := answer(map[string]any{"status": "SUCCESS", "refund_no": "9", "out_refund_id": "RF2", "payment_no": "P1", "refund_amount": "0.10"})
		res, err := platform(t, 200, body).Refund(t.Context(), gateways.RefundRequest{Order: ref, OutRefundNo: "RF1", Amount: hkd(10)})
		if !pos.Match(pos.Unknown, err) {
			t.Errorf("Refund = %+v, %v", res, err)
		}
	})
	t.Run("refund succeeded without refund_no", func(t *testing.T) {
		body := answer(map[string]any{"status": "SUCCESS", "out_refund_id": "RF1", "payment_no": "P1", "refund_amount": "0.10"})
		res, err := platform(t, 200, body).Refund(t.Context(), gateways.RefundRequest{Order: ref, OutRefundNo: "RF1", Amount: hkd(10)})
		if !pos.Match(pos.Unknown, err) {
			t.Errorf("Refund = %+v, %v", res, err)
		}
	})
	t.Run("refund refused with an undocumented code", func(t *testing.T) {
		body := `{"is_success":false,"error":"SOMETHING_NEW","error_message":"?"}`
		res, err := platform(t, 200, body).Refund(t.Context(), gateways.RefundRequest{Order: ref, OutRefundNo: "RF1", Amount: hkd(10)})
		if err != nil || res.Status != gateways.StatusUnknown {
			t.Errorf("Refund = %+v, %v; want StatusUnknown", res, err)
		}
	})
	t.Run("refund already exists", func(t *testing.T) {
		body := answer(map[string]any{"status": "FAIL", "result_code": "0001", "refund_no": "9", "out_refund_id": "RF1", "payment_no": "P1", "refund_amount": "0.10"})
		res, err := platform(t, 200, body).Refund(t.Context(), gateways.RefundRequest{Order: ref, OutRefundNo: "RF1", Amount: hkd(10)})
		if err != nil || res.Status != gateways.StatusUnknown {
			t.Errorf("Refund = %+v, %v; want StatusUnknown", res, err)
		}
	})
	t.Run("bill refused", func(t *testing.T) {
		_, err := platform(t, 200, `{"is_success":false,"error":"PARAM_ERROR","error_message":"range"}`).DownloadBill(t.Context(), time.Now())
		if !pos.Match(pos.Invalid, err) {
			t.Errorf("DownloadBill = %v, want Invalid", err)
		}
	})
	t.Run("forex for another currency", func(t *testing.T) {
		_, err := platform(t, 200, answer(map[string]any{"currency": "EUR", "forex_rate": "0.1"})).ForexRate(t.Context(), "USD")
		if !pos.Match(pos.Unknown, err) {
			t.Errorf("ForexRate = %v, want Unknown", err)
		}
	})
}

// Notifications sent as JSON are read like answers; one for another
// merchant is refused.
func TestNotificationForms(t *testing.T) {
	key, err := hipopay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hipopay.New(clientOptions(keySet, "http://127.0.0.1:9"), gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"status":"PAID","trade_type":"MINIPROGRAM","payment_no":"P1","currency":"JPY","amount":"1200","out_trade_id":"PA1",` +
		`"finish_time":"2018-08-13 16:33:16","promotion_detail":[{"activity_id":"931386","amount":1}]}`
	p, err := hipopay.AnswerParams([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := hipopay.Timestamp(time.Now().Add(-30 * time.Minute)) // a late resend
	sig, err := hipopay.Sign(key, p.SigningString(ts))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(hipopay.HeaderTimestamp, ts)
	h.Set(hipopay.HeaderSignature, sig)
	n, err := c.ParseNotification(h, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2018, 8, 13, 8, 33, 16, 0, time.UTC)
	if n.OutTradeNo != "PA1" || n.ID != "hipopay:P1:PAID" || n.Result.Amount != (pos.Money{Minor: 1200, Currency: "JPY"}) ||
		n.Result.Wallet != pos.WeChatPay || !n.Result.PaidAt.Equal(want) {
		t.Errorf("notification = %+v", n)
	}
	h.Set(hipopay.HeaderMerchantNO, "HP999")
	if _, err := c.ParseNotification(h, []byte(body)); !pos.Match(pos.Unknown, err) {
		t.Errorf("notification for another merchant: %v", err)
	}
}
