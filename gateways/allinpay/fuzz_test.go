package allinpay

import (
	"net/http"
	"testing"
)

// Every parser of received bytes must refuse garbage without panicking.

func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=1&a=2", "{\"a\":\"1\",\"b\":2}", "{\"a\":{}}", "{", "%zz", "{\"a\":1}x", "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := ParseFields(b)
		if err == nil {
			_ = fs.SigningString()
			_ = fs.Encode()
		}
	})
}

// signedSeed is a valid signed answer for the fuzz client.
func signedSeed(f *testing.F, c *Client, fields Fields) []byte {
	s, err := Sign(testKey, fields)
	if err != nil {
		f.Fatal(err)
	}
	fields[SignatureField] = s
	return []byte(fields.Encode())
}

func fuzzClient(f *testing.F) *Client {
	keys(f)
	c := &Client{opts: Options{MchNo: "6666666600003", Currency: "HKD"}, key: testKey, platform: &testKey.PublicKey, log: discardLogger()}
	return c
}

func FuzzAnswer(f *testing.F) {
	c := fuzzClient(f)
	f.Add(signedSeed(f, c, Fields{"requestNo": "R1", "returnCode": "0000", "resultCode": "0000", "transNo": "42", "transAmount": "100", "currency": "HKD", "payTime": "20240101120000"}))
	f.Add(signedSeed(f, c, Fields{"requestNo": "R1", "returnCode": "0000", "resultCode": "0007"}))
	f.Add([]byte("requestNo=R1&returnCode=0000&signature=AAAA"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for cl := range opNames {
			r, err := c.answer("fuzz", b, "R1")
			if err != nil {
				continue
			}
			res := c.result("X", r, classify(cl, r))
			if res.Status < 0 || res.Status > 3 {
				t.Fatalf("status %d", res.Status)
			}
		}
	})
}

func FuzzParseNotification(f *testing.F) {
	c := fuzzClient(f)
	f.Add(signedSeed(f, c, Fields{"requestNo": "N1", "mchNo": "6666666600003", "outTransNo": "PA1", "transType": "WXPAY_SCANCODE",
		"transAmount": "100", "currency": "HKD", "resultCode": "0000", "transNo": "42", "payTime": "20240101120000"}))
	f.Add([]byte("SUCCESS"))
	f.Add([]byte(`{"outTransNo":"PA1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := c.ParseNotification(http.Header{}, b)
		if err == nil && n.OutTradeNo == "" && n.Result.OutRefundNo == "" {
			t.Fatal("accepted a notification without an order or refund number")
		}
	})
}

func FuzzParseBill(f *testing.F) {
	f.Add([]byte("20240101,6666666600003,Demo,T001,PA1,SALE,,,,,2024-01-01 12:30:00,HKD,12.50,1.00,HKD,12.40,0.10,13.50,0,1,,\r\nSummary,20240101,HKD,12.50,0.10,12.40,1,13.50,0\r\n"))
	f.Add([]byte("Summary,20240101,HKD,0,0,0,0,0,0"))
	f.Add([]byte("\"a,b\",\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bill, err := ParseBill(b)
		if err == nil {
			_ = bill.Check()
		}
	})
}
