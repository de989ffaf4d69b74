package swiftpass

import (
	"net/http"
	"testing"
)

// Every parser of received bytes must refuse garbage without panicking.

func FuzzParseXML(f *testing.F) {
	for _, s := range []string{"", "<xml></xml>", "<xml><a>1</a></xml>", "<xml><a><![CDATA[x]]></a><b>y</b></xml>",
		"<xml><a><b/></a></xml>", "<?xml version=\"1.0\"?><xml><a>&amp;</a></xml>", "<!DOCTYPE x><xml/>", "\xff", "<xml><a>1</a>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := ParseXML(b)
		if err != nil {
			return
		}
		if fs.SigningString() == "" {
			return // only empty fields: Marshal leaves them out
		}
		back, err := ParseXML(fs.Marshal())
		if err != nil {
			t.Fatalf("re-parsing %q: %v", fs.Marshal(), err)
		}
		for k, v := range fs {
			if v != "" && back[k] != v {
				t.Fatalf("field %q: %q became %q", k, v, back[k])
			}
		}
	})
}

func fuzzClient(f *testing.F) (*Client, Signer) {
	c := testClient(f, testOptions(), http.DefaultTransport)
	return c, mustSigner(f, MD5, exampleKey)
}

func FuzzAnswer(f *testing.F) {
	c, s := fuzzClient(f)
	f.Add(signedNote(f, s, Fields{"status": "0", "result_code": "0", "mch_id": "7551000001", "trade_state": "SUCCESS", "total_fee": "100", "time_end": "20240101120000"}))
	f.Add(signedNote(f, s, Fields{"status": "0", "result_code": "0", "refund_count": "2", "out_refund_no_0": "R", "refund_status_0": "SUCCESS"}))
	f.Add(signedNote(f, s, Fields{"status": "0", "result_code": "1", "err_code": "Order not exists"}))
	f.Add([]byte("<xml><status>400</status><message>Signature error</message></xml>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := c.verify(b)
		if err != nil {
			return
		}
		for _, op := range Operations {
			res := c.result("fuzz", r, classify(op, r), expect{outTradeNo: "PA1", needOrder: true})
			if res.Status < 0 || res.Status > 3 {
				t.Fatalf("status %d", res.Status)
			}
		}
	})
}

func FuzzParseNotification(f *testing.F) {
	c, s := fuzzClient(f)
	f.Add(signedNote(f, s, paidNote()))
	f.Add([]byte("success"))
	f.Add([]byte("<xml><out_trade_no>PA1</out_trade_no></xml>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := c.ParseNotification(http.Header{}, b)
		if err == nil && n.OutTradeNo == "" {
			t.Fatal("accepted a notification without an order number")
		}
	})
}
