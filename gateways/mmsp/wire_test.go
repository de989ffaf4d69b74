package mmsp

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent/gateways"
)

const testKey = "ea21842eea24e448b991b1cb0a0294cf" // §12.3

// The expected values below were computed outside Go (Python's hashlib
// over the text shown), so the adapter's encoder and MD5 are checked
// against an independent implementation of §3.3.1.
func TestSignVectors(t *testing.T) {
	body := map[string]string{
		"AMT": "1", "GOODSNAME": "测试商品", "MERORDERID": "20240101000001",
		"NOTIFY_URL": "http://www.abc.com/a/b", "RANDSTR": "abc123", "CODE": "134567890123456789", "CUR": "CNY",
	}
	canonical := EncodeBody(body)
	wantCanonical := `{"AMT":"1","CODE":"134567890123456789","CUR":"CNY","GOODSNAME":"测试商品","MERORDERID":"20240101000001","NOTIFY_URL":"http:\/\/www.abc.com\/a\/b","RANDSTR":"abc123"}`
	if diff := cmp.Diff(wantCanonical, string(canonical)); diff != "" {
		t.Fatalf("EncodeBody: keys A-Z, Chinese unescaped, slashes escaped (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		rule SlashRule
		text string
		sign string
	}{
		{SlashFAQ, `"NOTIFY_URL":"http:////www.abc.com//a//b"`, "E0FFA1529B4E0D0EEF5B521946414983"},
		{SlashEscaped, `"NOTIFY_URL":"http:\/\/www.abc.com\/a\/b"`, "38FF203D90159AA1B854287A165BCDAB"},
		{SlashPlain, `"NOTIFY_URL":"http://www.abc.com/a/b"`, "A1B0B129875B0A32762C17B309D5CDFC"},
	} {
		if got := SigningText(canonical, tc.rule); !strings.Contains(got, tc.text) {
			t.Errorf("SigningText(%s) = %s, want it to contain %s", tc.rule, got, tc.text)
		}
		if got := Sign(canonical, testKey, tc.rule); got != tc.sign {
			t.Errorf("Sign(%s) = %s, want %s", tc.rule, got, tc.sign)
		}
	}
}

// FAQ 3: "数字类型加了\"\"" — a number and the same digits quoted sign
// differently, so a received Body is verified with its own types.
func TestSignNumbersKeepTheirType(t *testing.T) {
	for _, tc := range []struct{ raw, sign string }{
		{`{"STATUS":"1","MERORDERID":"A1","AMT":100}`, "311CC3AC570F9A7A84C60CE0E025E069"},
		{`{"STATUS":"1","MERORDERID":"A1","AMT":"100"}`, "2247973D2239D1BDF2B8A3B5FBAADC4B"},
	} {
		c, err := CanonicalBody([]byte(tc.raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := Sign(c, testKey, SlashEscaped); got != tc.sign {
			t.Errorf("Sign(%s) = %s, want %s", c, got, tc.sign)
		}
	}
	// Numeric-looking strings are strings: EncodeBody quotes every value.
	if got := string(EncodeBody(map[string]string{"AMT": "100", "CODE": "007"})); got != `{"AMT":"100","CODE":"007"}` {
		t.Errorf("EncodeBody = %s", got)
	}
}

func TestCanonicalBody(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Received with Go/Java-style escapes, re-encoded PHP-style.
		{`{"B":"a\/b","A":"\u6d4b\u8bd5"}`, `{"A":"测试","B":"a\/b"}`},
		{`{"URL":"http://x/y?a=1&b=2"}`, `{"URL":"http:\/\/x\/y?a=1&b=2"}`},
		{`{"Q":"say \"hi\"\\ \n\t\u0001 \u2028"}`, `{"Q":"say \"hi\"\\ \n\t\u0001 \u2028"}`},
		{`{"N":1.50,"T":true,"Z":null,"O":{"z":1,"a":[1,"/"]}}`, `{"N":1.50,"O":{"z":1,"a":[1,"\/"]},"T":true,"Z":null}`},
		{`{"ERR_CODE_MSG":"x","ERR_CODE":"y","AMT":"1"}`, `{"AMT":"1","ERR_CODE":"y","ERR_CODE_MSG":"x"}`},
	} {
		got, err := CanonicalBody([]byte(tc.in))
		if err != nil {
			t.Errorf("CanonicalBody(%s): %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("CanonicalBody(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"a":1} {}`, `{"a":`, `null`} {
		if _, err := CanonicalBody([]byte(bad)); err == nil {
			t.Errorf("CanonicalBody(%q) accepted", bad)
		}
	}
}

func TestParse(t *testing.T) {
	body := EncodeBody(map[string]string{"STATUS": "1", "MERORDERID": "A1"})
	good := Marshal(Header{CommandID: 35075, SeqID: 1, NodeType: 3, NodeID: "openplat", MerNo: "M", TermNo: "T", RetCode: 1, Answer: true},
		body, Sign(body, testKey, SlashEscaped))
	m, err := Parse(good, testKey, SlashEscaped)
	if err != nil {
		t.Fatal(err)
	}
	if m.CommandID != 35075 || m.RetCode != 1 || m.Str("STATUS") != "1" || m.MerNo != "M" {
		t.Errorf("Parse = %+v", m)
	}
	// Lower-case signatures are accepted; a wrong key, tampered body or
	// missing Sign is not.
	lower := strings.Replace(string(good), Sign(body, testKey, SlashEscaped), strings.ToLower(Sign(body, testKey, SlashEscaped)), 1)
	if _, err := Parse([]byte(lower), testKey, SlashEscaped); err != nil {
		t.Errorf("lower-case Sign: %v", err)
	}
	for name, raw := range map[string]string{
		"wrong key":    string(good),
		"tampered":     strings.Replace(string(good), `"STATUS":"1"`, `"STATUS":"2"`, 1),
		"missing sign": strings.Replace(string(good), `"Sign":"`, `"Sig":"`, 1),
	} {
		key := testKey
		if name == "wrong key" {
			key = "other"
		}
		if _, err := Parse([]byte(raw), key, SlashEscaped); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
		}
	}
	// The spec's examples: quoted header numbers, ErrMsg spelling, null
	// AGENTNO, and an unsigned negative answer with Body "".
	neg := `{"CommandID":32768,"SeqID":"1","NodeType":"3","NodeID":"openapi","Version":"1.0.0","RetCode":0,"ErrorMsg":"[-2002] 没有该订单","Body":"","Sign":"","AGENTNO":null,"MERNO":"001100098147733","TERMNO":"15400002"}`
	m, err = Parse([]byte(neg), testKey, SlashEscaped)
	if err != nil || m.CommandID != CmdNegative || m.RetCode != 0 || SubCode(m.ErrorMsg) != SubNoOrder || m.SeqID != 1 {
		t.Errorf("negative answer = %+v, %v", m, err)
	}
	for _, bad := range []string{`{}`, `{"CommandID":35075}`, `{"CommandID":"x"}`, `{"CommandID":35075,"Body":"","Sign":""}`, `{"CommandID":32768}`} {
		if _, err := Parse([]byte(bad), testKey, SlashEscaped); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}

func TestResponseFor(t *testing.T) {
	for req, want := range map[int]int{2307: 35075, 2309: 35077, 2306: 35074, 2325: 35093, 1025: 33793, 1031: 33799, 2310: 35078, 2314: 35082, 776: 35094} {
		if got := ResponseFor(req); got != want {
			t.Errorf("ResponseFor(%d) = %d, want %d (§3.2.1)", req, got, want)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	body := EncodeBody(map[string]string{"STATUS": "1", "MERORDERID": "A1", "AMT": "100"})
	f.Add(Marshal(Header{CommandID: 35075, RetCode: 1, Answer: true}, body, Sign(body, testKey, SlashEscaped)))
	f.Add([]byte(`{"CommandID":32768,"RetCode":39999,"ErrorMsg":"[-3005] x","Body":"","Sign":""}`))
	f.Add([]byte(`{"CommandID":"35075","Body":{"A":[{"b":null}],"N":1e400},"Sign":"00"}`))
	c, _ := New(Options{Endpoint: "http://127.0.0.1:1", MerchantNo: "M", TerminalNo: "T", Key: testKey, NotifyURL: "http://x/n"}, envForTest())
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, testKey, SlashEscaped)
		if err != nil {
			return
		}
		check := func(op Operation, res gateways.Result, err error) {
			if res.Mismatch != "" && res.Status != gateways.StatusUnknown {
				t.Fatalf("%s: Mismatch with status %s", op, res.Status)
			}
			if err == nil && res.Status != gateways.StatusUnknown && m.CommandID != CmdNegative && !m.Answer {
				t.Fatalf("%s: an answer without RetCode read as %s", op, res.Status)
			}
		}
		res, err := c.payResult(OpPay, "fuzz", CmdWeChatMicropay, m, "A1", "", zeroMoney)
		check(OpPay, res, err)
		res, err = c.payResult(OpQuery, "fuzz", CmdQuery, m, "A1", "", zeroMoney)
		check(OpQuery, res, err)
		res, err = c.cancelResult(OpReverse, "fuzz", CmdReverse, m, "A1")
		check(OpReverse, res, err)
		for _, op := range []Operation{OpRefund, OpRefundQuery} {
			res, err = c.refundResult(op, "fuzz", CmdRefund, m, gateways.RefundRequest{OutRefundNo: "R1"})
			check(op, res, err)
		}
	})
}
