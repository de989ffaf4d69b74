package hipopay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenKeyFile is the committed test key: RSA PKCS#1 v1.5 signatures are
// deterministic, so fixed inputs give fixed bytes.
const goldenKeyFile = "testdata/TEST_ONLY_merchant_key.pem"

// goldenTime is the clock of the golden requests.
var goldenTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// recorder is a transport that keeps each request's bytes as they would
// go on the wire and answers 500, so every call is Unknown.
type recorder struct{ sent []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	r.sent = append(r.sent, strings.ReplaceAll(b.String(), "\r\n", "\n")+"\n")
	return &http.Response{StatusCode: http.StatusInternalServerError, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: req}, nil
}

func goldenClient(t *testing.T) (*Client, *recorder) {
	t.Helper()
	b, err := os.ReadFile(goldenKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	_, other := keys(t)
	o := Options{Endpoint: "https://testapi.hipopay.com/", MerchantNO: "WC8888888888888",
		MerchantKeyFile: "unused", PlatformKeyFile: "unused"}.withDefaults("")
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return &Client{opts: o, key: key, platform: &other.PublicKey, http: &http.Client{Transport: rec},
		log: slog.New(slog.DiscardHandler), now: func() time.Time { return goldenTime }}, rec
}

// The exact signed bytes (request line, headers, body) of every request
// for fixed inputs and the committed test key. Run with -update after a
// deliberate change, and read the diff.
func TestGoldenRequests(t *testing.T) {
	ctx := context.Background()
	hkd := func(m int64) pos.Money { return pos.Money{Minor: m, Currency: "HKD"} }
	ref := gateways.OrderRef{OutTradeNo: "2746847384112837273872", TransactionID: "2018071823332342210483065", Amount: hkd(888)}
	cases := []struct {
		name string
		call func(c *Client) error
	}{
		{"query_payment_no", func(c *Client) error { _, err := c.Query(ctx, ref); return err }},
		{"query_out_trade_id", func(c *Client) error {
			_, err := c.Query(ctx, gateways.OrderRef{OutTradeNo: ref.OutTradeNo})
			return err
		}},
		{"refund", func(c *Client) error {
			_, err := c.Refund(ctx, gateways.RefundRequest{Order: ref, OutRefundNo: "R201901021232213", Amount: hkd(888)})
			return err
		}},
		{"refund_jpy", func(c *Client) error {
			jpy := pos.Money{Minor: 1200, Currency: "JPY"}
			_, err := c.Refund(ctx, gateways.RefundRequest{Order: gateways.OrderRef{TransactionID: "2637473637382", Amount: jpy}, OutRefundNo: "R2024010203040500", Amount: jpy})
			return err
		}},
		{"query_refund", func(c *Client) error {
			_, err := c.QueryRefund(ctx, gateways.RefundRequest{Order: ref, OutRefundNo: "R2019263747363", Amount: hkd(100)})
			return err
		}},
		{"bill", func(c *Client) error {
			_, err := c.DownloadBillRange(ctx, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 1, 20, 0, 0, 0, 0, time.UTC))
			return err
		}},
		{"forex", func(c *Client) error { _, err := c.ForexRate(ctx, "USD"); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, rec := goldenClient(t)
			if err := c.call(cl); !pos.Match(pos.Unknown, err) {
				t.Fatalf("call against a 500 = %v, want Unknown", err)
			}
			got := strings.Join(rec.sent, "")
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
			// What the golden file holds is a request the platform accepts:
			// the signature verifies over its parameters and Timestamp.
			req, p := readGolden(t, want)
			if err := Verify(&cl.key.PublicKey, p.SigningString(req.Header.Get(HeaderTimestamp)), req.Header.Get(HeaderSignature)); err != nil {
				t.Errorf("golden request signature: %v", err)
			}
		})
	}
}

// readGolden parses the one request of a golden file and its parameters.
func readGolden(t *testing.T, b []byte) (*http.Request, Params) {
	t.Helper()
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))))
	if err != nil {
		t.Fatal(err)
	}
	var v url.Values
	if req.Method == http.MethodGet {
		v = req.URL.Query()
	} else {
		body, _ := io.ReadAll(req.Body)
		if v, err = url.ParseQuery(strings.TrimSpace(string(body))); err != nil {
			t.Fatal(err)
		}
	}
	p, err := valuesParams(v)
	if err != nil {
		t.Fatal(err)
	}
	return req, p
}

// The golden signatures checked by openssl with the public half it derives
// from the committed test key itself.
func TestGoldenSignaturesWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed: the independent check of the golden signatures needs it")
	}
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub.pem")
	if out, err := exec.Command(openssl, "pkey", "-in", goldenKeyFile, "-pubout", "-out", pub).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkey: %v\n%s", err, out)
	}
	files, _ := filepath.Glob("testdata/*.golden")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		req, p := readGolden(t, b)
		data := filepath.Join(dir, "data")
		sig := filepath.Join(dir, "sig")
		raw, err := base64.StdEncoding.DecodeString(req.Header.Get(HeaderSignature))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(data, []byte(p.SigningString(req.Header.Get(HeaderTimestamp))), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sig, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pub, "-signature", sig, data).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verified OK") {
			t.Errorf("%s: openssl: %v\n%s", f, err, out)
		}
	}
}

// The spec's example answers that are JSON (the others write True, False
// and trailing commas) read as the parameters a signature covers, and as
// results.
func TestSpecExampleAnswers(t *testing.T) {
	t.Run("forex", func(t *testing.T) {
		p, err := AnswerParams([]byte(`{
"is_success": true,
"response": {
"currency": "USD",
"forex_rate": "0.1490046489450470854690666349"
}
}`))
		if err != nil {
			t.Fatal(err)
		}
		want := "currency=USD&forex_rate=0.1490046489450470854690666349&is_success=true,1704164645"
		if got := p.SigningString("1704164645"); got != want {
			t.Errorf("signed text\n got %s\nwant %s", got, want)
		}
		if _, err := ParseRate(p["forex_rate"]); err != nil {
			t.Error(err)
		}
	})
	refundFail := []byte(`{
"is_success": true,
"response": {
"fail_message": "Settled Balance Not Enough",
"finish_time": "2021-12-23 16:42:34",
"out_refund_id": "R201901021232213",
"payment_no": "2637473637382",
"refund_amount": "8.88",
"refund_no": "2637473637452",
"result_code": "0011",
"status": "FAIL"
},
"return_message": "OK"
}`)
	refundOK := []byte(`{
"is_success": true,
"response": {
"finish_time": "2021-12-23 19:22:14",
"out_refund_id": "R201637473637452",
"payment_no": "2637473637382",
"refund_amount": "8.88",
"refund_no": "2637473637452",
"result_code": "0000",
"status": "SUCCESS"
},
"return_message": "OK"
}`)
	c := &Client{}
	for _, v := range []struct {
		name   string
		body   []byte
		outRef string
		want   gateways.Status
		reason string
	}{
		{"refund failed", refundFail, "R201901021232213", gateways.StatusFailed, "Settled Balance Not Enough"},
		{"check refund", refundOK, "R201637473637452", gateways.StatusSucceeded, ""},
	} {
		t.Run(v.name, func(t *testing.T) {
			p, err := AnswerParams(v.body)
			if err != nil {
				t.Fatal(err)
			}
			env, err := readEnvelope(p)
			if err != nil || !env.success || env.returnMessage != "OK" {
				t.Fatalf("envelope %+v, %v", env, err)
			}
			req := gateways.RefundRequest{OutRefundNo: v.outRef, Amount: pos.Money{Minor: 888, Currency: "HKD"}}
			res, err := c.refundResult("test", p, req, "2637473637382", "")
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != v.want || res.Reason != v.reason || res.RefundID != "2637473637452" || res.Amount != req.Amount {
				t.Errorf("result = %+v", res)
			}
		})
	}
	t.Run("check order (made JSON)", func(t *testing.T) {
		// The spec's example with True and the trailing comma fixed.
		p, err := AnswerParams([]byte(`{"is_success": true, "response": {"amount": "0.02", "currency": "HKD", "exchange_rate": "0.881890",
"out_trade_id": "2746847384112837273872", "payment_no": "2018071823332342210483065", "status": "PAID",
"product_info": "Alipay App Pay", "trade_time": "2018-07-18 23:33:23", "trade_type": "APP"}}`))
		if err != nil {
			t.Fatal(err)
		}
		res, err := paymentResult(p)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != gateways.StatusSucceeded || res.Amount != (pos.Money{Minor: 2, Currency: "HKD"}) || res.TransactionID != "2018071823332342210483065" {
			t.Errorf("result = %+v", res)
		}
	})
	t.Run("the spec's Python-style examples are not JSON", func(t *testing.T) {
		if _, err := AnswerParams([]byte(`{"is_success": False, "error": "PAYMENT_NOT_FOUND", "error_message" : "Order not found",}`)); err == nil {
			t.Error("accepted True/False and a trailing comma")
		}
	})
}

func TestAnswerParams(t *testing.T) {
	cases := []struct {
		name, body string
		want       Params
		wantErr    bool
	}{
		{"lifted and typed", `{"is_success":true,"response":{"a":"x","n":8.80,"b":false,"z":null,"o":{"k": [1, 2]}}}`,
			Params{"is_success": "true", "a": "x", "n": "8.80", "b": "false", "o": `{"k":[1,2]}`}, false},
		{"error answer", `{"is_success":false,"error":"E","error_message":"m"}`, Params{"is_success": "false", "error": "E", "error_message": "m"}, false},
		{"string is_success", `{"is_success":"True"}`, Params{"is_success": "True"}, false},
		{"response not an object", `{"is_success":true,"response":"x"}`, Params{"is_success": "true", "response": "x"}, false},
		{"name in both places", `{"status":"A","response":{"status":"B"}}`, nil, true},
		{"repeated name", `{"a":"1","a":"2"}`, nil, true},
		{"repeated inside response", `{"response":{"a":"1","a":"2"}}`, nil, true},
		{"trailing data", `{"a":"1"} {"b":"2"}`, nil, true},
		{"trailing garbage", `{"a":"1"} x`, nil, true},
		{"array", `[1]`, nil, true},
		{"empty", ``, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := AnswerParams([]byte(c.body))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if diff := cmp.Diff(c.want, got); !c.wantErr && diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestEnvelope(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "True": true, "TRUE": true, "false": false, "False": false} {
		e, err := readEnvelope(Params{"is_success": in})
		if err != nil || e.success != want {
			t.Errorf("is_success %q = %+v, %v", in, e, err)
		}
	}
	for _, in := range []string{"", "1", "yes", "SUCCESS"} {
		if _, err := readEnvelope(Params{"is_success": in}); err == nil {
			t.Errorf("is_success %q accepted", in)
		}
	}
}

// The spec's report example, line for line.
func TestParseBillSpecExample(t *testing.T) {
	data := "Test: company's reconciliation report of 20190101 to 20190120\n" +
		"Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n" +
		"Collection via WeChat Pay,2019-01-02 10:55:10,`2019010210551024660612990,`13260056057_wechat_1546397710000,0.99 HKD,-,1.06 HKD,1.00 HKD,1,0.01 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n" +
		"Collection via WeChat Pay,2019-01-02 11:07:05,`2019010211070452703917004,`13260056057_wechat_1546398424000,0.99 HKD,-,2.05 HKD,1.00 HKD,1,0.00 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n" +
		"Refund,2019-01-04 10:50:34,`2019010410503295208356067,`,-,-0.99 HKD,1.06 HKD,-,-,-,1.00 HKD,`2019010211070452703917004,`13260056057_wechat_1546398424000,-,-,-,-,WECHATPAYCN\n"
	b, err := ParseBill([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	hkd := func(m int64) pos.Money { return pos.Money{Minor: m, Currency: "HKD"} }
	want := Bill{
		Title: "Test: company's reconciliation report of 20190101 to 20190120",
		Records: []BillRecord{
			{Type: "Collection via WeChat Pay", Time: time.Date(2019, 1, 2, 10, 55, 10, 0, PlatformZone), PaymentNo: "2019010210551024660612990",
				OutTradeID: "13260056057_wechat_1546397710000", Credit: hkd(99), Balance: hkd(106), Amount: hkd(100), SettlementRate: "1", Fee: hkd(1), Channel: "WECHATPAYCN"},
			{Type: "Collection via WeChat Pay", Time: time.Date(2019, 1, 2, 11, 7, 5, 0, PlatformZone), PaymentNo: "2019010211070452703917004",
				OutTradeID: "13260056057_wechat_1546398424000", Credit: hkd(99), Balance: hkd(205), Amount: hkd(100), SettlementRate: "1", Fee: hkd(0), Channel: "WECHATPAYCN"},
			{Type: "Refund", Time: time.Date(2019, 1, 4, 10, 50, 34, 0, PlatformZone), PaymentNo: "2019010410503295208356067",
				Debit: hkd(-99), Balance: hkd(106), RefundAmount: hkd(100), RefundOrder: "2019010211070452703917004", OutRefundID: "13260056057_wechat_1546398424000", Channel: "WECHATPAYCN"},
		},
		HasHeader: true,
	}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	for _, bad := range []string{
		"Refund,2019-01-04 10:50:34,`1\n",
		"Refund,yesterday,`1,`,-,-,-,-,-,-,-,-,-,-,-,-,-,X\n",
		"Refund,2019-01-04 10:50:34,`1,`,-,1.001 HKD,-,-,-,-,-,-,-,-,-,-,-,X\n",
		"Refund,2019-01-04 10:50:34,`1,`,-,1 XYZ,-,-,-,-,-,-,-,-,-,-,-,X\n",
		"Refund,2019-01-04 10:50:34,`1,`,-,1.5 JPY,-,-,-,-,-,-,-,-,-,-,-,X\n",
	} {
		if _, err := ParseBill([]byte(bad)); err == nil {
			t.Errorf("ParseBill(%q) accepted", bad)
		}
	}
}

func TestParseRate(t *testing.T) {
	for s, ok := range map[string]bool{"1": true, "0.149": true, "21.05": true, "0": false, "-1": false, "1e5": false, "1/3": false, ".5": false, "5.": false, "": false, " 1": false} {
		if _, err := ParseRate(s); (err == nil) != ok {
			t.Errorf("ParseRate(%q) = %v", s, err)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	if got, err := ParseTimestamp("1704164645"); err != nil || !got.Equal(goldenTime) {
		t.Errorf("seconds: %v %v", got, err)
	}
	if got, err := ParseTimestamp("1704164645000"); err != nil || !got.Equal(goldenTime) {
		t.Errorf("milliseconds: %v %v", got, err)
	}
	for _, s := range []string{"", "-1", "17041646450000", "2024-01-02", "1e9"} {
		if _, err := ParseTimestamp(s); err == nil {
			t.Errorf("ParseTimestamp(%q) accepted", s)
		}
	}
	if Timestamp(goldenTime) != "1704164645" {
		t.Errorf("Timestamp = %s", Timestamp(goldenTime))
	}
}
