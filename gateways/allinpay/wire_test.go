package allinpay

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// Field rules (spec §1.5.1.2) are checked before anything is signed or
// sent, and the error names the field.
func TestFieldRules(t *testing.T) {
	ok := payRequest{
		RequestNo: "202401011200001234567890123456", Version: Version, AccessCode: "200000000318",
		TransType: "WXPAY_MICROPAY", SignType: SignType, MchNo: "6666666600003",
		OutTransNo: "PA202401011200000001", TransAmount: "100", Currency: "HKD",
		NotifyURL: "https://till.example/notify", AuthCode: "134567890123456789",
	}
	if _, err := toFields(ok); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*payRequest)
		want   string
	}{
		{"requestNo too long", func(r *payRequest) { r.RequestNo = strings.Repeat("1", 33) }, "requestNo (AN..32): is 33 bytes, longer than 32"},
		{"outTransNo with space", func(r *payRequest) { r.OutTransNo = "PA 1" }, "outTransNo (AN..32): contains ' '"},
		{"amount not digits", func(r *payRequest) { r.TransAmount = "1.00" }, "transAmount (N..12): contains '.'"},
		{"amount 13 digits", func(r *payRequest) { r.TransAmount = "1000000000000" }, "transAmount (N..12): is 13 bytes"},
		{"negative tips", func(r *payRequest) { r.TipsAmount = "-1" }, "tipsAmount (N..12): contains '-'"},
		{"mchNo missing", func(r *payRequest) { r.MchNo = "" }, "mchNo (AN..20): is mandatory"},
		{"storeId too long", func(r *payRequest) { r.StoreID = strings.Repeat("9", 21) }, "storeId (AN..20): is 21 bytes"},
		{"Chinese counts as bytes", func(r *payRequest) { r.StoreID = "门店门店门店门" }, "storeId (AN..20): is 21 bytes"},
		{"control character", func(r *payRequest) { r.AuthCode = "13\n4567" }, "authCode (ANS..128): contains '\\n'"},
		{"expireTime not number", func(r *payRequest) { r.ExpireTime = "5m" }, "expireTime (N..10): contains 'm'"},
		{"not UTF-8", func(r *payRequest) { r.LimitPay = "\xff" }, "limitPay (AN..20): is not UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.mutate(&r)
			_, err := toFields(r)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("toFields = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// The client refuses, as pos.Invalid and before sending, what breaks a rule.
func TestInvalidBeforeSending(t *testing.T) {
	c, sent := newRecordingClient(t)
	long := strings.Repeat("9", 33)
	_, err := c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: long, Amount: hkd(100), Code: code(t, "134567890123456789")})
	if !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), "outTransNo") {
		t.Errorf("Micropay with a 33-character order number = %v, want Invalid naming outTransNo", err)
	}
	_, err = c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "PA1", Amount: cny(100), Code: code(t, "134567890123456789")})
	if !pos.Match(pos.Invalid, err) {
		t.Errorf("Micropay in CNY for an HKD merchant = %v, want Invalid", err)
	}
	_, err = c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: "PA1", Amount: hkd(100), Wallet: pos.QQWallet})
	if !pos.Match(pos.Invalid, err) {
		t.Errorf("CreateQR for QQ Wallet = %v, want Invalid", err)
	}
	res, err := c.Refund(context.Background(), gateways.RefundRequest{
		Order: gateways.OrderRef{OutTradeNo: "PA1", Wallet: pos.Alipay, Amount: hkd(100)}, OutRefundNo: "RF1", Amount: hkd(101)})
	if err != nil || res.Status != gateways.StatusFailed || res.Reason == "" {
		t.Errorf("Refund above the original = %+v, %v; want Failed with a reason", res, err)
	}
	if len(*sent) != 0 {
		t.Errorf("%d requests sent, want none", len(*sent))
	}
}

func hkd(minor int64) pos.Money { return pos.Money{Minor: minor, Currency: "HKD"} }
func cny(minor int64) pos.Money { return pos.Money{Minor: minor, Currency: "CNY"} }

func code(t *testing.T, s string) pos.AuthCode {
	t.Helper()
	c, err := pos.ParseAuthCode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// goldenKey is the committed test key, so signed bytes are reproducible
// (RSA PKCS#1 v1.5 signatures are deterministic).
func goldenKeyClient(t *testing.T, endpoint string) *Client {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "test_merchant_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	_, other := keys(t)
	o := Options{
		Endpoint: endpoint, AccessCode: "200000000318", MchNo: "6666666600003",
		NotifyURL: "https://till.example/allinpay/notify", StoreID: "S001", TerminalID: "T001",
		LimitPay: "no_credit", Simulated: true, PollInterval: time.Second,
		MerchantKeyFile: "unused", PlatformKeyFile: "unused",
	}.withDefaults("")
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Client{opts: o, key: key, platform: &other.PublicKey, http: &http.Client{},
		log: discardLogger(), now: func() time.Time { return fixed },
		random: func(n int) string { return strings.Repeat("7", n) }}
}

// newRecordingClient is a client whose endpoint records request bodies and
// answers 500 (so every call is Unknown).
func newRecordingClient(t *testing.T) (*Client, *[]string) {
	t.Helper()
	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sent = append(sent, r.URL.Path+"\n"+r.Header.Get("Content-Type")+"\n"+string(b)+"\n")
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return goldenKeyClient(t, srv.URL+"/gateway/pay/consumeTrans"), &sent
}

// The exact signed bytes of every request for fixed inputs.
func TestGoldenRequests(t *testing.T) {
	ctx := context.Background()
	ref := gateways.OrderRef{OutTradeNo: "PA202401020304050001", Wallet: pos.Alipay, Amount: hkd(1250),
		SubmittedAt: time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC)}
	cases := []struct {
		name string
		call func(c *Client) error
	}{
		{"micropay_wechat", func(c *Client) error {
			_, err := c.Micropay(ctx, gateways.MicropayRequest{OutTradeNo: "PA202401020304050001", Amount: hkd(1250), Code: code(t, "134567890123456789"), Description: "coffee"})
			return err
		}},
		{"micropay_unionpay_tips", func(c *Client) error {
			_, err := c.MicropayWithTips(ctx, gateways.MicropayRequest{OutTradeNo: "PA202401020304050002", Amount: hkd(1350), Code: code(t, "6212345678901234567")}, hkd(100))
			return err
		}},
		{"qr_paynow", func(c *Client) error {
			// PayNow is SGD only, and its code lives 3 minutes whatever
			// the till asks (expireTime=3).
			c.opts.Currency = "SGD"
			_, err := c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA202401020304050003", Amount: pos.Money{Minor: 990, Currency: "SGD"}, Wallet: pos.PayNow,
				Expires: time.Date(2024, 1, 2, 3, 14, 6, 0, time.UTC)})
			return err
		}},
		{"query", func(c *Client) error { _, err := c.Query(ctx, ref); return err }},
		{"void", func(c *Client) error { _, err := c.Reverse(ctx, ref); return err }},
		{"close", func(c *Client) error {
			qr := ref
			qr.Method = pos.MerchantQR
			_, err := c.Close(ctx, qr)
			return err
		}},
		{"refund", func(c *Client) error {
			_, err := c.Refund(ctx, gateways.RefundRequest{Order: ref, OutRefundNo: "RF202401020304050001", Amount: hkd(250), Reason: "退货 returned"})
			return err
		}},
		{"bill", func(c *Client) error {
			_, err := c.DownloadBill(ctx, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, sent := newRecordingClient(t)
			if err := c.call(cl); !pos.Match(pos.Unknown, err) && !pos.Match(pos.Unavailable, err) {
				t.Fatalf("call against a 500 = %v, want Unknown (Unavailable for the bill)", err)
			}
			got := strings.Join(*sent, "")
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("request bytes differ from %s (-want +got):\n%s", path, diff)
			}
			// The golden bytes carry a signature that verifies.
			lines := strings.Split(strings.TrimSpace(string(want)), "\n")
			f, err := ParseFields([]byte(lines[len(lines)-1]))
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(&cl.key.PublicKey, f); err != nil {
				t.Errorf("golden request signature: %v", err)
			}
			if err := ValidateRequest(f); err != nil {
				t.Errorf("golden request breaks a field rule: %v", err)
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
