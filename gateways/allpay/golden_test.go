package allpay

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const testKey = "2f2c77e3718c47cfb47a89a6fbc9d361"

// recorder is a fake platform that keeps the last request and answers
// with a signed echo carrying the RespCode answer picks.
type recorder struct {
	mu   sync.Mutex
	path string
	body []byte
	code string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	f, _ := ParseFields(b)
	r.mu.Lock()
	r.path, r.body = req.URL.Path, b
	code := r.code
	r.mu.Unlock()
	ans := Fields{"transType": f["transType"], "orderNum": f["orderNum"], "merID": f["merID"], "signType": f["signType"],
		"RespCode": code, "RespMsg": "sim", "transID": "T1", "code_url": "weixin://wxpay/bizpayurl?pr=x"}
	sig, _ := Sign(ans, testKey)
	ans[SignatureField] = sig
	_, _ = w.Write(ans.JSON())
}

func fixedClient(t *testing.T, endpoint string, mutate func(*Options)) *Client {
	t.Helper()
	o := Options{Endpoint: endpoint, MerID: "000000000000015", Key: testKey, BackURL: "https://till.example/notify/allpay", Currency: "USD", Simulated: true}
	if mutate != nil {
		mutate(&o)
	}
	c, err := New(o, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return time.Date(2026, 3, 1, 4, 5, 6, 0, time.UTC) }
	c.voidNo = func(no string) string { return "V" + no + "-00000001" }
	return c
}

func usd(minor int64) pos.Money { return pos.Money{Minor: minor, Currency: "USD"} }

// TestGoldenRequests pins the exact signed bytes of every request against
// fixed inputs; run with -update after a deliberate wire change and review
// the diff.
func TestGoldenRequests(t *testing.T) {
	rec := &recorder{code: RespSuccess}
	ts := httptest.NewServer(rec)
	defer ts.Close()
	ref := gateways.OrderRef{OutTradeNo: "PA202603010405060001", Wallet: pos.WeChatPay, Method: pos.MerchantQR, Amount: usd(1234)}
	refund := gateways.RefundRequest{Order: ref, OutRefundNo: "RF202603010405060001", Amount: usd(500)}
	ctx := context.Background()
	cases := []struct {
		name, path string
		opts       func(*Options)
		call       func(c *Client) error
	}{
		{"qr_wechat", "/api/unifiedorder", nil, func(c *Client) error {
			_, err := c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: ref.OutTradeNo, Amount: usd(1234), Wallet: pos.WeChatPay, Description: "Coffee & cake"})
			return err
		}},
		{"qr_alipayhk_md5", "/api/unifiedorder", func(o *Options) { o.AlipaySchema, o.SignType, o.Currency = SchemaAlipayHK, SignMD5, "HKD" }, func(c *Client) error {
			_, err := c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: ref.OutTradeNo, Amount: pos.Money{Minor: 5000, Currency: "HKD"}, Wallet: pos.Alipay})
			return err
		}},
		{"query", "/api/orderquery", nil, func(c *Client) error { _, err := c.Query(ctx, ref); return err }},
		{"void", "/api/canc", func(o *Options) { o.VoidQR = true }, func(c *Client) error { _, err := c.Reverse(ctx, ref); return err }},
		{"refund", "/api/refund", nil, func(c *Client) error { _, err := c.Refund(ctx, refund); return err }},
		{"refund_query", "/api/refundquery", nil, func(c *Client) error { _, err := c.QueryRefund(ctx, refund); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fixedClient(t, ts.URL, tc.opts)
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			got, path := append([]byte(nil), rec.body...), rec.path
			rec.mu.Unlock()
			if path != tc.path {
				t.Errorf("path = %s, want %s", path, tc.path)
			}
			file := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(file, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(got)+"\n" != string(want) {
				t.Errorf("request differs from %s:\n got %s\nwant %s", file, got, want)
			}
			// The golden bytes verify under the key: the file is a vector.
			f, err := ParseFields(got)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(f, testKey, f["signType"]); err != nil {
				t.Errorf("golden request does not verify: %v", err)
			}
		})
	}
}
