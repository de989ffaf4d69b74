package allpay

import (
	"errors"
	"strings"
	"testing"
)

// specSample is the purchase of §3.3's sample signature string, and
// specKey the key appended to it there.
var specSample = Fields{
	"acqID":         "99020344",
	"backURL":       "https://www.allpayx.com",
	"charSet":       "UTF-8",
	"detailInfo":    "W3siZ29vZHNfbmFtZSI6IuiLueaenCIsInF1YW50aXR5IjoiMyJ9LHsiZ29vZHNfbmFtZSI6IuapmOWtkCIsInF1YW50aXR5IjoiNyJ9XQ==",
	"frontURL":      "https://www.baidu.com",
	"goodsInfo":     "apple",
	"merID":         "000000000000015",
	"merReserve":    "iPhone",
	"orderAmount":   "0.01",
	"orderCurrency": "USD",
	"orderNum":      "20190104022800",
	"paymentSchema": "AP",
	"signType":      "MD5",
	"transTime":     "20190104022800",
	"transType":     "PURC",
	"version":       "VER000000005",
}

const specKey = "2f2c77e3718c47cfb47a89a6fbc9d361"

// §3.3, verbatim: String1 with the key appended.
const specSignTemp = "acqID=99020344&backURL=https://www.allpayx.com&charSet=UTF-8&detailInfo=W3siZ29vZHNfbmFtZSI6IuiLueaenCIsInF1YW50aXR5IjoiMyJ9LHsiZ29vZHNfbmFtZSI6IuapmOWtkCIsInF1YW50aXR5IjoiNyJ9XQ==&frontURL=https://www.baidu.com&goodsInfo=apple&merID=000000000000015&merReserve=iPhone&orderAmount=0.01&orderCurrency=USD&orderNum=20190104022800&paymentSchema=AP&signType=MD5&transTime=20190104022800&transType=PURC&version=VER0000000052f2c77e3718c47cfb47a89a6fbc9d361"

func TestSpecSampleSigningString(t *testing.T) {
	f := Fields{}
	for k, v := range specSample {
		f[k] = v
	}
	f[SignatureField] = "ignored"
	if got := f.SigningString(false) + specKey; got != specSignTemp {
		t.Fatalf("stringSignTemp differs from the spec's sample:\n got %s\nwant %s", got, specSignTemp)
	}
}

// The spec gives no hash of its sample; these were computed independently
// with coreutils: printf '%s' "$specSignTemp" | md5sum (and sha256sum).
func TestSpecSampleSignatures(t *testing.T) {
	for _, tc := range []struct{ signType, want string }{
		{SignMD5, "3e2af60708824d427c20a3b33050d4ff"},
		{SignSHA256, "95af4e12ba23a9cb4ba4924551aad1e9726ddb295d243622c4ce56675751d4fa"},
	} {
		t.Run(tc.signType, func(t *testing.T) {
			got, err := digest(specSample.SigningString(false), specKey, tc.signType)
			if err != nil || got != tc.want {
				t.Fatalf("digest = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	// Sign uses the message's own signType (MD5 in the sample).
	if got, _ := Sign(specSample, specKey); got != "3e2af60708824d427c20a3b33050d4ff" {
		t.Errorf("Sign(sample) = %s", got)
	}
}

// The sample's detailInfo is the base64 of
// [{"goods_name":"苹果","quantity":"3"},{"goods_name":"橘子","quantity":"7"}].
func TestDetailInfoReproducesSample(t *testing.T) {
	got := DetailInfo([]Goods{{"苹果", "3"}, {"橘子", "7"}})
	if got != specSample["detailInfo"] {
		t.Fatalf("DetailInfo = %s, want %s", got, specSample["detailInfo"])
	}
}

func signed(t *testing.T, f Fields, key string) Fields {
	t.Helper()
	s, err := Sign(f, key)
	if err != nil {
		t.Fatal(err)
	}
	g := Fields{}
	for k, v := range f {
		g[k] = v
	}
	g[SignatureField] = s
	return g
}

func TestVerify(t *testing.T) {
	base := Fields{"orderNum": "PA1", "RespCode": "00", "signType": SignSHA256, "merID": "M1"}
	good := signed(t, base, "k")
	withEmpty := Fields{"orderNum": "PA1", "RespCode": "00", "signType": SignSHA256, "merReserve": ""}
	// A signer that signs empty fields as "k=" (later revisions).
	emptySigned, _ := digest(withEmpty.SigningString(true), "k", SignSHA256)
	withEmpty[SignatureField] = emptySigned
	upper := signed(t, base, "k")
	upper[SignatureField] = strings.ToUpper(upper[SignatureField])
	tampered := signed(t, base, "k")
	tampered["RespCode"] = "01"
	md5 := signed(t, Fields{"orderNum": "PA1", "signType": SignMD5}, "k")
	for _, tc := range []struct {
		name string
		f    Fields
		ok   bool
	}{
		{"good", good, true},
		{"upper-case hex", upper, true},
		{"empty fields signed", withEmpty, true},
		{"tampered", tampered, false},
		{"wrong key", signed(t, base, "other"), false},
		{"no signature", base, false},
		{"weaker signType than agreed", md5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.f, "k", SignSHA256)
			if tc.ok != (err == nil) {
				t.Fatalf("Verify = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("error %v does not wrap ErrBadSignature", err)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	for _, tc := range []struct {
		body string
		want Fields
		ok   bool
	}{
		{`{"RespCode":"00","orderAmount":1.50,"n":null,"b":true}`, Fields{"RespCode": "00", "orderAmount": "1.50", "n": "", "b": "true"}, true},
		{"RespCode=00&orderNum=PA1", Fields{"RespCode": "00", "orderNum": "PA1"}, true},
		{`{"a":{"b":"c"}}`, nil, false},
		{`{"a":"1"} {"b":"2"}`, nil, false},
		{"a=1&a=2", nil, false},
		{"", nil, false},
		{"{}", nil, false},
		{"\xff", nil, false},
	} {
		got, err := ParseFields([]byte(tc.body))
		if tc.ok != (err == nil) {
			t.Errorf("ParseFields(%q) error %v, want ok=%v", tc.body, err, tc.ok)
			continue
		}
		if tc.ok && len(got) != len(tc.want) {
			t.Errorf("ParseFields(%q) = %v, want %v", tc.body, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseFields(%q)[%s] = %q, want %q", tc.body, k, got[k], v)
			}
		}
	}
}
