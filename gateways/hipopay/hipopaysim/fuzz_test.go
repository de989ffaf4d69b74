package hipopaysim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/hipopay"
)

// The simulator parses whatever a client sends: it must answer, never panic.
func FuzzServeHTTP(f *testing.F) {
	ks, err := GenerateKeySet(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	var o Options
	if err := ks.Load(&o); err != nil {
		f.Fatal(err)
	}
	s, err := New(o)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.Seed(SeedOrder{OutTradeNo: "PA1", Amount: pos.Money{Minor: 100, Currency: "HKD"}}); err != nil {
		f.Fatal(err)
	}
	f.Add("GET", "/payment?out_trade_id=PA1", "", "1704164645", "AAAA")
	f.Add("POST", "/payment_refund", "payment_no=1&out_refund_id=R&refund_amount=0.00", "1", "")
	f.Add("GET", "/download_bill?merchant_no=x&start_date=2&end_date=1", "", "", "")
	f.Add("GET", "/wechatpay/forex_rate?currency=USD&currency=EUR", "", "", "%")
	f.Fuzz(func(t *testing.T, method, target, body, ts, sig string) {
		if method != "GET" && method != "POST" {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return // not a request a server could receive
		}
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.URL = u
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(hipopay.HeaderMerchantNO, DefaultMerchantNO)
		req.Header.Set(hipopay.HeaderVersion, hipopay.DefaultVersion)
		req.Header.Set(hipopay.HeaderTimestamp, ts)
		req.Header.Set(hipopay.HeaderSignature, sig)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK && w.Code != http.StatusNotFound {
			t.Fatalf("HTTP %d", w.Code)
		}
	})
}
