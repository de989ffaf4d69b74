package escpos

import (
	"testing"

	"github.com/posagent/posagent/hw/printer/printertest"
)

// BenchmarkEncodePaymentReceipt encodes the standard payment receipt (logo
// thresholded from its image every time, native QR) on 80 mm paper. The
// script scripts/bench.sh (receipt) runs receiptline on the same receipt
// for comparison.
func BenchmarkEncodePaymentReceipt(b *testing.B) {
	r := printertest.Receipts()[0].Receipt
	e := NewEncoder(Profile80)
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		if err := e.Receipt(r, EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodePaymentReceiptRasterQR is the same with the QR code drawn
// here and sent as an image.
func BenchmarkEncodePaymentReceiptRasterQR(b *testing.B) {
	r := printertest.Receipts()[0].Receipt
	e := NewEncoder(Profile80)
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		if err := e.Receipt(r, EncodeOptions{RasterQR: true}); err != nil {
			b.Fatal(err)
		}
	}
}
