package swiftpass

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"net/http"
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

// testRSAKey is a key generated for these tests only (testdata): RSA
// PKCS#1 v1.5 signatures are deterministic, so signed requests are
// reproducible byte for byte.
func testRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("testdata/test_merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeKeyFiles writes the test key as a 0600 private key file and its
// public half, for options that name files.
func writeKeyFiles(t testing.TB) (priv, pub string) {
	t.Helper()
	k := testRSAKey(t)
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	priv = filepath.Join(dir, "merchant_key.pem")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pder, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub = filepath.Join(dir, "platform_public.pem")
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}), 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// recorder is a transport that keeps the request and answers nothing.
type recorder struct{ req []byte }

var errRecorded = errors.New("recorded")

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	var b bytes.Buffer
	b.WriteString(req.Method + " " + req.URL.Path + "\n")
	b.WriteString(req.Header.Get("Content-Type") + "\n")
	b.Write(body)
	r.req = b.Bytes()
	return nil, errRecorded
}

var fixedNow = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) // 11:04:05 in UTC+8

func testOptions() Options {
	return Options{
		Endpoint:  "https://gateway.wepayez.com/pay/gateway",
		MchID:     "7551000001",
		Key:       exampleKey,
		NotifyURL: "https://till.example/notify/swiftpass",
	}
}

func testClient(t testing.TB, o Options, rt http.RoundTripper) *Client {
	t.Helper()
	c, err := New(o, gateways.Env{HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return fixedNow }
	c.nonce = func() string { return "5K8264ILTKCH16CQ2502SI8ZNMTM67VS" }
	return c
}

func hkd(t testing.TB, minor int64) pos.Money {
	t.Helper()
	m, err := pos.NewMoney(minor, "HKD")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGoldenRequests pins the exact signed bytes of every request.
func TestGoldenRequests(t *testing.T) {
	priv, pub := writeKeyFiles(t)
	ref := gateways.OrderRef{OutTradeNo: "PA20240102030405AB12", Wallet: pos.WeChatPay, Method: pos.MerchantQR, Amount: hkd(t, 1990)}
	refund := gateways.RefundRequest{Order: ref, OutRefundNo: "RF20240102030405CD34", Amount: hkd(t, 500), Reason: "returned"}
	cases := []struct {
		name string
		opts func(*Options)
		call func(*Client) (gateways.Result, error)
	}{
		{"qr_wechat_md5", nil, func(c *Client) (gateways.Result, error) {
			return c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: ref.OutTradeNo, Amount: ref.Amount, Wallet: pos.WeChatPay, Description: "Coffee & cake"})
		}},
		{"qr_alipay_sha256_options", func(o *Options) {
			o.SignType, o.GroupNo, o.SignAgentNo, o.DeviceInfo, o.LimitCredit, o.CreateIP = SHA256, "G100", "A200", "TILL-3", true, "203.0.113.7"
		}, func(c *Client) (gateways.Result, error) {
			return c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: ref.OutTradeNo, Amount: ref.Amount, Wallet: pos.Alipay, Expires: fixedNow.Add(90 * time.Second)})
		}},
		{"qr_upi_rsa", func(o *Options) {
			o.SignType, o.Key, o.PrivateKeyFile, o.PlatformKeyFile = RSA, "", priv, pub
		}, func(c *Client) (gateways.Result, error) {
			return c.CreateQR(context.Background(), gateways.QRRequest{OutTradeNo: ref.OutTradeNo, Amount: ref.Amount, Wallet: pos.UnionPay, Description: "茶 " + strings.Repeat("x", 200)})
		}},
		{"query", nil, func(c *Client) (gateways.Result, error) { return c.Query(context.Background(), ref) }},
		{"close", nil, func(c *Client) (gateways.Result, error) { return c.Close(context.Background(), ref) }},
		{"refund", nil, func(c *Client) (gateways.Result, error) { return c.Refund(context.Background(), refund) }},
		{"refund_query", nil, func(c *Client) (gateways.Result, error) { return c.QueryRefund(context.Background(), refund) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			if tc.opts != nil {
				tc.opts(&o)
			}
			rec := &recorder{}
			_, err := tc.call(testClient(t, o, rec))
			if !pos.Match(pos.Unavailable, err) {
				t.Fatalf("call = %v, want the recorder's Unavailable", err)
			}
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, rec.req, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), string(rec.req)); d != "" {
				t.Errorf("request differs from %s (-want +got):\n%s", path, d)
			}
			// What was sent verifies and passes the spec's field rules.
			lines := strings.SplitN(string(rec.req), "\n", 3)
			f, err := ParseXML([]byte(lines[2]))
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateRequest(f); err != nil {
				t.Error(err)
			}
			s := mustSigner(t, MD5, exampleKey)
			switch SignType(f["sign_type"]) {
			case SHA256:
				s = mustSigner(t, SHA256, exampleKey)
			case RSA:
				k := testRSAKey(t)
				s, _ = NewRSASigner(k, &k.PublicKey)
			}
			if err := s.Verify(f); err != nil {
				t.Errorf("the request's own signature: %v", err)
			}
		})
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	rec := &recorder{}
	c := testClient(t, testOptions(), rec)
	ctx := context.Background()
	cases := []struct {
		name string
		call func() (gateways.Result, error)
		want string
	}{
		{"bad order number", func() (gateways.Result, error) {
			return c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA 1", Amount: hkd(t, 100), Wallet: pos.WeChatPay})
		}, "field out_trade_no: contains ' '"},
		{"order number too long", func() (gateways.Result, error) {
			return c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: strings.Repeat("A", 33), Amount: hkd(t, 100), Wallet: pos.WeChatPay})
		}, "field out_trade_no: is 33 bytes, longer than 32"},
		{"no order number", func() (gateways.Result, error) {
			return c.CreateQR(ctx, gateways.QRRequest{Amount: hkd(t, 100), Wallet: pos.WeChatPay})
		}, "field out_trade_no: is required"},
		{"wallet", func() (gateways.Result, error) {
			return c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA1", Amount: hkd(t, 100), Wallet: pos.QQWallet})
		}, "wallet \"qq\""},
		{"currency", func() (gateways.Result, error) {
			m, _ := pos.NewMoney(100, "CNY")
			return c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA1", Amount: m, Wallet: pos.WeChatPay})
		}, "field total_fee: amount in \"CNY\""},
		{"expired", func() (gateways.Result, error) {
			return c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA1", Amount: hkd(t, 100), Wallet: pos.WeChatPay, Expires: fixedNow})
		}, "field time_expire"},
		{"control character", func() (gateways.Result, error) {
			return c.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA1", Amount: hkd(t, 100), Wallet: pos.WeChatPay, Description: "a\x00b"})
		}, "field body: contains the control character"},
		{"refund without original amount", func() (gateways.Result, error) {
			return c.Refund(ctx, gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1"}, OutRefundNo: "RF1", Amount: hkd(t, 100)})
		}, "field total_fee"},
		{"refund number", func() (gateways.Result, error) {
			return c.Refund(ctx, gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1", Amount: hkd(t, 100)}, OutRefundNo: "RF/1", Amount: hkd(t, 100)})
		}, "field out_refund_no"},
		{"query without number", func() (gateways.Result, error) {
			return c.Query(ctx, gateways.OrderRef{})
		}, "field out_trade_no: at least one of out_trade_no, transaction_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec.req = nil
			_, err := tc.call()
			if !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want Invalid containing %q", err, tc.want)
			}
			if rec.req != nil {
				t.Fatal("the request was sent")
			}
		})
	}
	// A refund above the original is certain to be refused: Failed, not sent.
	res, err := c.Refund(ctx, gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1", Amount: hkd(t, 100)}, OutRefundNo: "RF1", Amount: hkd(t, 101)})
	if err != nil || res.Status != gateways.StatusFailed || rec.req != nil {
		t.Fatalf("over-refund = %+v, %v (sent %v), want Failed unsent", res, err, rec.req != nil)
	}
}

func TestParseXML(t *testing.T) {
	good := []struct {
		in   string
		want Fields
	}{
		{"<xml><status>0</status><message><![CDATA[OK]]></message></xml>", Fields{"status": "0", "message": "OK"}},
		{"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n <a><![CDATA[x]]]]><![CDATA[>y]]></a>\n <b>&lt;&amp;</b><!-- c -->\n</xml>\n",
			Fields{"a": "x]]>y", "b": "<&"}},
		{"<xml><a></a><b> spaced </b></xml>", Fields{"a": "", "b": " spaced "}},
	}
	for _, g := range good {
		got, err := ParseXML([]byte(g.in))
		if err != nil {
			t.Errorf("ParseXML(%q): %v", g.in, err)
			continue
		}
		if d := cmp.Diff(g.want, got); d != "" {
			t.Errorf("ParseXML(%q) (-want +got):\n%s", g.in, d)
		}
	}
	bad := []string{
		"", "success", "{\"a\":1}", "<xml>", "<xml></xml>", "<root><a>1</a></root>",
		"<xml><a>1</a><a>2</a></xml>", "<xml><a><b>1</b></a></xml>", "<xml>text<a>1</a></xml>",
		"<xml><a>1</a></xml><xml><a>1</a></xml>", "<!DOCTYPE x [<!ENTITY e \"v\">]><xml><a>&e;</a></xml>",
		"<xml><a>\xff</a></xml>", "<xml><a>1</b></xml>", "<xml><a>&nope;</a></xml>",
	}
	for _, b := range bad {
		if f, err := ParseXML([]byte(b)); err == nil {
			t.Errorf("ParseXML(%q) = %v, want an error", b, f)
		}
	}
	// What Marshal writes, ParseXML reads back.
	in := Fields{"body": "a]]>b<c>&", "total_fee": "1", "empty": ""}
	out, err := ParseXML(in.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	delete(in, "empty")
	if d := cmp.Diff(in, out); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}
