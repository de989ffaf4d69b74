package hipopaysim

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// Step II of the spec: parameters sorted by name, "k=v" joined with "&",
// then "," and the Timestamp; raw, or URL-encoded as the vendor SDKs do.
func TestSignText(t *testing.T) {
	p := params{"refund_amount": "8.88", "payment_no": "2637473637382", "out_refund_id": "R 1/2"}
	if got, want := signText(p, "1551840374", false), "out_refund_id=R 1/2&payment_no=2637473637382&refund_amount=8.88,1551840374"; got != want {
		t.Errorf("raw: %q, want %q", got, want)
	}
	if got, want := signText(p, "1551840374", true), "out_refund_id=R%201%2F2&payment_no=2637473637382&refund_amount=8.88,1551840374"; got != want {
		t.Errorf("encoded: %q, want %q", got, want)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		t.Fatal(err)
	}
	for _, encode := range []bool{false, true} {
		sig, err := rsaSign(key, signText(p, "1551840374", encode))
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyRequest(&key.PublicKey, p, "1551840374", sig); err != nil {
			t.Errorf("encode=%t: %v", encode, err)
		}
		if err := verifyRequest(&key.PublicKey, p, "1551840375", sig); err == nil {
			t.Errorf("encode=%t: a signature over another Timestamp verified", encode)
		}
	}
}
