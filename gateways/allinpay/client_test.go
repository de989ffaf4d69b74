package allinpay_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/gateways/allinpay/allinpaysim"
	"github.com/posagent/posagent/gateways/sim"
)

func TestNewValidatesOptions(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.pem")
	b, err := os.ReadFile(keySet.MerchantKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(loose, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	base := clientOptions("https://pay.example/gateway/pay/consumeTrans", "https://till.example/notify")
	base.Simulated = false
	base.PollInterval = 0
	cases := []struct {
		name   string
		mutate func(*allinpay.Options)
		want   string
	}{
		{"valid", func(*allinpay.Options) {}, ""},
		{"key readable by others", func(o *allinpay.Options) { o.MerchantKeyFile = loose }, loose + " has mode 0644"},
		{"missing key file", func(o *allinpay.Options) { o.MerchantKeyFile = filepath.Join(dir, "none.pem") }, "merchant_key_file"},
		{"platform key is a private key", func(o *allinpay.Options) { o.PlatformKeyFile = keySet.PlatformKeyFile }, "platform_key_file"},
		{"no endpoint", func(o *allinpay.Options) { o.Endpoint = "" }, "endpoint is required"},
		{"plain http", func(o *allinpay.Options) { o.Endpoint = "http://pay.example/x" }, "must be https"},
		{"poll faster than the spec", func(o *allinpay.Options) { o.PollInterval = 5 * time.Second }, "below the spec's minimum 10s"},
		{"no access code", func(o *allinpay.Options) { o.AccessCode = "" }, "access_code"},
		{"store id too long", func(o *allinpay.Options) { o.StoreID = strings.Repeat("1", 21) }, "store_id"},
		{"unknown currency", func(o *allinpay.Options) { o.Currency = "XYZ" }, "currency"},
		{"no notify url", func(o *allinpay.Options) { o.NotifyURL = "" }, "notify_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base
			c.mutate(&o)
			cl, err := allinpay.New(o, gateways.Env{})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tm := cl.Timing(); tm.PollInterval != 10*time.Second || tm.MinPollInterval != 10*time.Second {
					t.Errorf("Timing = %+v, want the spec's 10 s", tm)
				}
				return
			}
			if !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want Invalid containing %q", err, c.want)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(keySet.MerchantKeyFile, filepath.Join(dir, "m.pem")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(keySet.PlatformPublicKeyFile, filepath.Join(dir, "p.pem")); err != nil {
		t.Fatal(err)
	}
	conf := `
endpoint: https://test.allinpayhk.com/gateway/pay/consumeTrans
access_code: "20000000"
mch_no: "6666666600003"
merchant_key_file: m.pem
platform_key_file: p.pem
notify_url: https://till.example/notify
currency: SGD
store_id: S1
poll_interval: 15s
`
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(conf), &node); err != nil {
		t.Fatal(err)
	}
	gw, err := gateways.New("allinpay", func(v any) error { return node.Decode(v) }, gateways.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if gw.Kind() != "allinpay" || !gw.Capabilities().Accepts("SGD") || gw.Timing().PollInterval != 15*time.Second {
		t.Errorf("registered gateway = %s %+v %+v", gw.Kind(), gw.Capabilities(), gw.Timing())
	}
}

// Notifications: verified with the platform key; a forged one, one for
// another merchant, or one without a signature is an error, never a result.
func TestParseNotification(t *testing.T) {
	p := newPair(t, "")
	ctx := context.Background()
	res, err := p.client.Micropay(ctx, gateways.MicropayRequest{OutTradeNo: "PA1", Amount: pos.Money{Minor: 100, Currency: "HKD"}, Code: mustCode(t, "284567890123456789")})
	if err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Micropay = %+v, %v", res, err)
	}
	h, body, err := p.ctl.srv.Notification("PA1", "")
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.client.ParseNotification(h, body)
	if err != nil {
		t.Fatal(err)
	}
	if n.OutTradeNo != "PA1" || n.Result.Status != gateways.StatusSucceeded || n.Result.Wallet != pos.Alipay ||
		n.Result.Amount != (pos.Money{Minor: 100, Currency: "HKD"}) || n.Result.TransactionID != res.TransactionID || n.Result.PaidAt.IsZero() {
		t.Errorf("notification = %+v", n)
	}

	platform, err := allinpay.LoadPrivateKey(keySet.PlatformKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := allinpay.ParseFields(body)
	if err != nil {
		t.Fatal(err)
	}
	resign := func(mutate func(allinpay.Fields)) []byte {
		g := allinpay.Fields{}
		for k, v := range f {
			g[k] = v
		}
		mutate(g)
		s, err := allinpay.Sign(platform, g)
		if err != nil {
			t.Fatal(err)
		}
		g[allinpay.SignatureField] = s
		return []byte(g.Encode())
	}
	// Another merchant's is not refused forever: it is reported, never adopted.
	if n, err := p.client.ParseNotification(http.Header{}, resign(func(g allinpay.Fields) { g["mchNo"] = "999" })); err != nil ||
		n.Result.Mismatch == "" || n.Result.Status != gateways.StatusUnknown {
		t.Errorf("another merchant's notification = %+v, %v; want Unknown with Mismatch", n, err)
	}
	for name, b := range map[string][]byte{
		"no order number":   resign(func(g allinpay.Fields) { delete(g, "outTransNo") }),
		"amount changed":    []byte(strings.Replace(string(body), "transAmount=100", "transAmount=1", 1)),
		"signature removed": []byte(strings.Replace(string(body), "signature=", "x=", 1)),
	} {
		if n, err := p.client.ParseNotification(http.Header{}, b); !pos.Match(pos.Unknown, err) {
			t.Errorf("%s: ParseNotification = %+v, %v; want an Unknown error", name, n, err)
		}
	}
	// A void's notification (§1.5.2.6's fields: no oriOutTransNo) that
	// names the void of a sale by its refund record's number: Unknown, with
	// OutRefundNo for the flows to find the record; one of the till's own
	// reverse (actNo's "V" number) names its order.
	n, err = p.client.ParseNotification(http.Header{}, resign(func(g allinpay.Fields) { g["transType"] = "WXPAY_CANCEL"; g["outTransNo"] = "RF123" }))
	if err != nil || n.Result.Status != gateways.StatusUnknown || n.Result.OutRefundNo != "RF123" {
		t.Errorf("a void of a sale's notification = %+v, %v; want Unknown naming refund RF123", n.Result, err)
	}
	n, err = p.client.ParseNotification(http.Header{}, resign(func(g allinpay.Fields) { g["transType"] = "WXPAY_CANCEL"; g["outTransNo"] = "VPA1123456" }))
	if err != nil || n.OutTradeNo != "PA1" || n.Result.OutRefundNo != "" {
		t.Errorf("a reverse's void notification = %+v, %v; want order PA1 and no refund", n, err)
	}
	// A notification without resultCode is not taken as paid.
	n, err = p.client.ParseNotification(http.Header{}, resign(func(g allinpay.Fields) { delete(g, "resultCode"); delete(g, "resultMsg") }))
	if err != nil || n.Result.Status != gateways.StatusUnknown {
		t.Errorf("notification without resultCode = %+v, %v; want Unknown", n.Result, err)
	}
	ct, ack := p.client.NotificationAck(true)
	if string(ack) != "SUCCESS" || !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("ack = %q %q, want SUCCESS", ct, ack)
	}
}

// The simulator refuses what the platform would: a request signed with
// another key, or one that breaks a field rule.
func TestSimulatorRefusesBadRequests(t *testing.T) {
	p := newPair(t, "")
	stranger := allinpaysim.KeySetIn(t.TempDir())
	if _, err := allinpaysim.GenerateKeySet(stranger.Dir); err != nil {
		t.Fatal(err)
	}
	o := clientOptions(p.ctl.ts.URL, "https://till.example/notify")
	o.MerchantKeyFile = stranger.MerchantKeyFile
	c, err := allinpay.New(o, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Micropay(context.Background(), gateways.MicropayRequest{OutTradeNo: "PA2", Amount: pos.Money{Minor: 100, Currency: "HKD"}, Code: mustCode(t, "134567890123456789")})
	if err != nil || res.Status != gateways.StatusFailed || res.Code != "0012" {
		t.Errorf("Micropay signed with a stranger's key = %+v, %v; want Failed 0012", res, err)
	}
	if _, ok := p.ctl.srv.Ledger().Get("PA2"); ok {
		t.Error("the refused order is in the ledger")
	}
}

// Void is same-day only: on a later day Reverse closes instead, which a
// paid order refuses.
func TestReverseNextDay(t *testing.T) {
	p := newPair(t, "")
	ctx := context.Background()
	yesterday := time.Now().Add(-24 * time.Hour)
	p.ctl.srv.SetClock(func() time.Time { return yesterday })
	res, err := p.client.Micropay(ctx, gateways.MicropayRequest{OutTradeNo: "PA3", Amount: pos.Money{Minor: 100, Currency: "HKD"}, Code: mustCode(t, "134567890123456789")})
	if err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Micropay = %+v, %v", res, err)
	}
	p.ctl.srv.SetClock(time.Now)
	// A micropay is never closed (§1.5.2.5 offers close for QR orders
	// only): the order is read, found paid on an earlier day, and the
	// reverse is refused so the flows keep the payment for a refund.
	res, err = p.client.Reverse(ctx, gateways.OrderRef{OutTradeNo: "PA3", Wallet: pos.WeChatPay, Method: pos.Micropay, SubmittedAt: yesterday})
	if err != nil || res.Status != gateways.StatusFailed || res.Code != "0032" {
		t.Errorf("Reverse of yesterday's paid order = %+v, %v; want Failed 0032 (refund instead)", res, err)
	}
	// Without SubmittedAt the adapter voids; the platform refuses the
	// void of another day's order (0032).
	res, err = p.client.Reverse(ctx, gateways.OrderRef{OutTradeNo: "PA3", Wallet: pos.WeChatPay, Method: pos.Micropay})
	if err != nil || res.Status != gateways.StatusFailed || res.Code != "0032" {
		t.Errorf("Reverse without SubmittedAt = %+v, %v; want Failed 0032", res, err)
	}

	// Yesterday's bill lists the payment; today's is not ready.
	bill, err := p.client.DownloadBill(ctx, yesterday.In(time.FixedZone("", 8*3600)))
	if err != nil {
		t.Fatal(err)
	}
	if len(bill.Records) != 1 || bill.Records[0].OrderNo != "PA3" || bill.Records[0].Amount.Minor != 100 || bill.Check() != nil {
		t.Errorf("bill = %+v", bill)
	}
	if _, err := p.client.DownloadBill(ctx, time.Now().In(time.FixedZone("", 8*3600))); !pos.Match(pos.Declined, err) {
		t.Errorf("today's bill: %v, want Declined", err)
	}
}

// TestVoidAndQueryVoid: the void of a sale (gateways.Voider). Voidable
// only for an order submitted today (UTC+8). Void sends *_CANCEL under the
// record's own number; QueryVoid reads the original: still paid today is
// Unknown with Resend (the same void again), voided is Succeeded, and an
// order of an earlier day that is still paid is Failed (no void can
// execute on another day, §1.5.2.4: refund it).
func TestVoidAndQueryVoid(t *testing.T) {
	p := newPair(t, "")
	ctx := context.Background()
	hkd := pos.Money{Minor: 100, Currency: "HKD"}
	yesterday := time.Now().Add(-24 * time.Hour)
	p.ctl.srv.SetClock(func() time.Time { return yesterday })
	if res, err := p.client.Micropay(ctx, gateways.MicropayRequest{OutTradeNo: "PA6", Amount: hkd, Code: mustCode(t, "134567890123456789")}); err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Micropay = %+v, %v", res, err)
	}
	p.ctl.srv.SetClock(time.Now)
	now := time.Now()
	if res, err := p.client.Micropay(ctx, gateways.MicropayRequest{OutTradeNo: "PA5", Amount: hkd, Code: mustCode(t, "134567890123456789")}); err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Micropay = %+v, %v", res, err)
	}
	today := gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA5", Wallet: pos.WeChatPay, Method: pos.Micropay, Amount: hkd, SubmittedAt: now},
		OutRefundNo: "RF5", Amount: hkd}
	old := gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA6", Wallet: pos.WeChatPay, Method: pos.Micropay, Amount: hkd, SubmittedAt: yesterday},
		OutRefundNo: "RF6", Amount: hkd}
	if !p.client.Voidable(today.Order, now) || p.client.Voidable(old.Order, now) || p.client.Voidable(gateways.OrderRef{Wallet: pos.WeChatPay}, now) {
		t.Errorf("Voidable: today %v, yesterday %v, no submission time %v; want true, false, false",
			p.client.Voidable(today.Order, now), p.client.Voidable(old.Order, now), p.client.Voidable(gateways.OrderRef{Wallet: pos.WeChatPay}, now))
	}
	if res, err := p.client.QueryVoid(ctx, today); err != nil || res.Status != gateways.StatusUnknown || !res.Resend {
		t.Errorf("QueryVoid before the void = %+v, %v; want Unknown with Resend", res, err)
	}
	res, err := p.client.Void(ctx, today)
	if err != nil || res.Status != gateways.StatusSucceeded || res.OutRefundNo != "RF5" || res.OutTradeNo != "PA5" {
		t.Fatalf("Void = %+v, %v", res, err)
	}
	if o, _ := p.ctl.srv.Order("PA5"); o.State != sim.Revoked {
		t.Errorf("the simulator has the voided sale %s", o.State)
	}
	if res, err := p.client.QueryVoid(ctx, today); err != nil || res.Status != gateways.StatusSucceeded {
		t.Errorf("QueryVoid after the void = %+v, %v; want Succeeded", res, err)
	}
	if res, err := p.client.Void(ctx, old); err != nil || res.Status != gateways.StatusFailed || res.Code != "0032" {
		t.Errorf("Void of yesterday's sale = %+v, %v; want Failed 0032", res, err)
	}
	if res, err := p.client.QueryVoid(ctx, old); err != nil || res.Status != gateways.StatusFailed {
		t.Errorf("QueryVoid of yesterday's sale = %+v, %v; want Failed (refund it)", res, err)
	}
}

func TestGenerateKeySet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	ks, err := allinpaysim.GenerateKeySet(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ks.MerchantKeyFile, ks.MerchantPublicKeyFile, ks.PlatformKeyFile, ks.PlatformPublicKeyFile} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", dir, st.Mode().Perm())
	}
	b, _ := os.ReadFile(ks.MerchantKeyFile)
	blk, _ := pem.Decode(b)
	if _, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
		t.Errorf("merchant key: %v", err)
	}
	again, err := allinpaysim.GenerateKeySet(dir)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(again.MerchantKeyFile)
	if string(b) != string(b2) {
		t.Error("GenerateKeySet replaced an existing key set")
	}
}

func mustCode(t *testing.T, s string) pos.AuthCode {
	t.Helper()
	c, err := pos.ParseAuthCode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
