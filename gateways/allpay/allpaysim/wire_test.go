package allpaysim

import (
	"crypto/md5"
	"encoding/hex"
	"testing"
)

// The spec's §3 sample: the simulator's own signer reproduces the sample
// string exactly, and its MD5 over it with the key appended.
func TestSpecSigningSample(t *testing.T) {
	f := fields{
		"acqID": "99020344", "backURL": "https://www.allpayx.com", "charSet": "UTF-8",
		"detailInfo": "W3siZ29vZHNfbmFtZSI6IuiLueaenCIsInF1YW50aXR5IjoiMyJ9LHsiZ29vZHNfbmFtZSI6IuapmOWtkCIsInF1YW50aXR5IjoiNyJ9XQ==",
		"frontURL":   "https://www.baidu.com", "goodsInfo": "apple", "merID": "000000000000015", "merReserve": "iPhone",
		"orderAmount": "0.01", "orderCurrency": "USD", "orderNum": "20190104022800", "paymentSchema": "AP",
		"signType": "MD5", "transTime": "20190104022800", "transType": "PURC", "version": "VER000000005",
		"signature": "ignored",
	}
	const sample = "acqID=99020344&backURL=https://www.allpayx.com&charSet=UTF-8&detailInfo=W3siZ29vZHNfbmFtZSI6IuiLueaenCIsInF1YW50aXR5IjoiMyJ9LHsiZ29vZHNfbmFtZSI6IuapmOWtkCIsInF1YW50aXR5IjoiNyJ9XQ==&frontURL=https://www.baidu.com&goodsInfo=apple&merID=000000000000015&merReserve=iPhone&orderAmount=0.01&orderCurrency=USD&orderNum=20190104022800&paymentSchema=AP&signType=MD5&transTime=20190104022800&transType=PURC&version=VER0000000052f2c77e3718c47cfb47a89a6fbc9d361"
	key := TestKey.Reveal()
	if got := signText(f) + key; got != sample {
		t.Fatalf("signing string\n got %s\nwant %s", got, sample)
	}
	sum := md5.Sum([]byte(sample))
	sign(f, key)
	if f["signature"] != hex.EncodeToString(sum[:]) || f["signature"] != "3e2af60708824d427c20a3b33050d4ff" {
		t.Errorf("signature %s, want the sample's MD5 3e2af60708824d427c20a3b33050d4ff", f["signature"])
	}
	if !signatureOK(f, key, "MD5") {
		t.Error("the simulator does not verify its own signature")
	}
}
