package qr

import (
	"fmt"
	"testing"
)

// BenchmarkEncodeReceiptQR is the receipt's QR (a 28-digit transaction
// number), new data every time: the symbol encode alone.
func BenchmarkEncodeReceiptQR(b *testing.B) {
	i := 0
	for b.Loop() {
		i++
		if _, err := Encode(fmt.Sprintf("42000023452025031%011d", i), M); err != nil {
			b.Fatal(err)
		}
	}
}
