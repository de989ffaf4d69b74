package allpay

import (
	"log/slog"
	"testing"

	"github.com/posagent/posagent/gateways"
)

// Every parser of received bytes must refuse garbage without panicking.

func fuzzClient() *Client {
	return &Client{opts: Options{MerID: "000000000000015", SignType: SignSHA256, Currency: "USD"}.withDefaults(),
		key: testKey, log: slog.New(slog.DiscardHandler)}
}

func signedSeed(f *testing.F, fields Fields) []byte {
	s, err := Sign(fields, testKey)
	if err != nil {
		f.Fatal(err)
	}
	fields[SignatureField] = s
	return fields.JSON()
}

func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=1&a=2", `{"a":"1","b":2}`, `{"a":{}}`, "{", "%zz", `{"a":1}x`, "\xff", `{"a":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := ParseFields(b)
		if err == nil {
			_ = fs.SigningString(true)
			_ = fs.Encode()
			_ = CheckRequest(fs)
		}
	})
}

func FuzzAnswer(f *testing.F) {
	c := fuzzClient()
	f.Add(signedSeed(f, Fields{"transType": "PURC", "orderNum": "PA1", "merID": "000000000000015", "signType": SignSHA256,
		"RespCode": "00", "code_url": "weixin://x", "orderAmount": "1.00", "orderCurrency": "USD"}))
	f.Add(signedSeed(f, Fields{"transType": "INQY", "orderNum": "PA1", "merID": "000000000000015", "signType": SignSHA256, "RespCode": "U7"}))
	f.Add([]byte(`{"RespCode":"00","signature":"00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = c.verify(b, false)
		_, _ = c.verify(b, true)
		// The mapping runs on verified answers only, but must not panic on
		// any fields: it is fuzzed without the signature check.
		ans, err := ParseFields(b)
		if err != nil {
			return
		}
		for _, cl := range []opClass{classPurchase, classInquiry, classRefund, classRefundQuery, classVoid, classNotification} {
			res, _ := c.result(cl, ans, "", true)
			if res.Status < gateways.StatusUnknown || res.Status > gateways.StatusFailed {
				t.Fatalf("status %d", res.Status)
			}
			_ = c.checkEchoedAmount("fuzz", ans, usd(100), &res)
		}
	})
}

func FuzzParseNotification(f *testing.F) {
	c := fuzzClient()
	f.Add(signedSeed(f, Fields{"version": Version, "transType": "PURC", "orderNum": "PA1", "merID": "000000000000015", "signType": SignSHA256,
		"RespCode": "00", "transID": "42", "orderAmount": "12.50", "orderCurrency": "USD", "paymentSchema": "WX"}))
	f.Add([]byte("OK"))
	f.Add([]byte(`{"orderNum":"PA1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := c.ParseNotification(nil, b)
		if err == nil && (n.OutTradeNo == "" || n.ID == "") {
			t.Fatal("accepted a notification without an order number or ID")
		}
	})
}
