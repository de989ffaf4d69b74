package allpaysim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/allpay/allpaysim"
)

func purchase() allpay.Fields {
	return allpay.Fields{
		"version": allpay.Version, "charSet": allpay.CharSet, "transType": allpay.TransPurchase, "orderNum": "PA1",
		"orderAmount": "1.00", "orderCurrency": "USD", "frontURL": "http://x/", "backURL": "http://x/", "merID": allpaysim.TestMerID,
		"acqID": allpay.DefaultAcqID, "paymentSchema": "WX", "goodsInfo": "g", "detailInfo": allpay.DetailInfo([]allpay.Goods{{Name: "g", Quantity: "1"}}),
		"transTime": "20260301120000", "signType": allpay.SignSHA256, "tradeFrom": allpay.TradeFromQR,
	}
}

func answer(t *testing.T, srv http.Handler, path string, f allpay.Fields, key string) allpay.Fields {
	t.Helper()
	if key != "" {
		sig, err := allpay.Sign(f, key)
		if err != nil {
			t.Fatal(err)
		}
		f[allpay.SignatureField] = sig
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(f.Encode()))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	ans, err := allpay.ParseFields(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("answer %q: %v", rec.Body.String(), err)
	}
	if err := allpay.Verify(ans, allpaysim.TestKey.Reveal(), allpay.SignSHA256); err != nil {
		t.Fatalf("answer not signed: %v", err)
	}
	return ans
}

// The simulator refuses what the spec's tables refuse, with signed answers.
func TestRefusals(t *testing.T) {
	srv, err := allpaysim.New(allpaysim.DemoOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	key := allpaysim.TestKey.Reveal()
	mut := func(m func(allpay.Fields)) allpay.Fields { f := purchase(); m(f); return f }
	for _, tc := range []struct {
		name, path string
		f          allpay.Fields
		key        string
		want       string
	}{
		{"bad signature", "/api/unifiedorder", purchase(), "wrong", allpay.RespBadSignature},
		{"unsigned", "/api/unifiedorder", purchase(), "", allpay.RespBadSignature},
		{"unknown merchant", "/api/unifiedorder", mut(func(f allpay.Fields) { f["merID"] = "1" }), key, allpay.RespNoMerchant},
		{"missing goodsInfo", "/api/unifiedorder", mut(func(f allpay.Fields) { delete(f, "goodsInfo") }), key, allpay.RespMissingParam},
		{"amount not decimal", "/api/unifiedorder", mut(func(f allpay.Fields) { f["orderAmount"] = "1,00" }), key, allpay.RespInvalidParam},
		{"wrong path", "/api/orderquery", purchase(), key, allpay.RespInvalidParam},
		{"jump mode", "/api/unifiedorder", mut(func(f allpay.Fields) { f["tradeFrom"] = "QUICK" }), key, allpay.RespNotSupported},
		{"unknown channel", "/api/unifiedorder", mut(func(f allpay.Fields) { f["paymentSchema"] = "UP" }), key, allpay.RespNoChannel},
		{"created", "/api/unifiedorder", purchase(), key, allpay.RespSuccess},
		{"number reused", "/api/unifiedorder", purchase(), key, allpay.RespRepeatOrderNum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans := answer(t, srv, tc.path, tc.f, tc.key)
			if ans["RespCode"] != tc.want {
				t.Errorf("RespCode %s (%s), want %s", ans["RespCode"], ans["RespMsg"], tc.want)
			}
		})
	}
}

// A ledger file carries the orders across a restart of the simulator.
func TestLedgerSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.json")
	o := allpaysim.DemoOptions()
	o.LedgerPath = path
	srv, err := allpaysim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	c, err := allpay.New(clientOptions(o, ts.URL, "http://127.0.0.1:9/n"), gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	amt := pos.Money{Minor: 100, Currency: allpay.DefaultCurrency}
	if _, err := c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: "PA2", Amount: amt, Wallet: pos.Alipay}); err != nil {
		t.Fatal(err)
	}
	ts.Close()
	srv.Close()
	srv2, err := allpaysim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(srv2)
	defer ts2.Close()
	defer srv2.Close()
	u, _ := url.Parse(ts2.URL)
	c2, err := allpay.New(clientOptions(o, u.String(), "http://127.0.0.1:9/n"), gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c2.Query(context.Background(), gateways.OrderRef{OutTradeNo: "PA2", Wallet: pos.Alipay, Amount: amt})
	if err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Query after restart = %+v, %v", res, err)
	}
}

// clientOptions pairs an allpay client with a simulator built with o.
func clientOptions(o allpaysim.Options, endpoint, backURL string) allpay.Options {
	o = o.WithDefaults()
	return allpay.Options{Endpoint: endpoint, MerID: o.MerID, AcqID: o.AcqID, Key: o.Key, SignType: o.SignType,
		BackURL: backURL, PollInterval: 500 * time.Millisecond, Simulated: true}
}
