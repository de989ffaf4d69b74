package escpos

import (
	"bytes"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/qr"
)

// TestPaymentQREncodedOnce: a payment's merchant and customer receipts,
// with the QR drawn here (raster), encode the QR symbol once between them
// (hw/qr keeps it), and both carry the same raster.
func TestPaymentQREncodedOnce(t *testing.T) {
	p := pos.Payment{ID: "pay_qronce", OutTradeNo: "PAQR0120261202032500123456", TransactionID: "4200009999202612020325001234",
		Gateway: "mmsp", Method: pos.Micropay, Amount: pos.Money{Minor: 1200, Currency: "CNY"}, Wallet: pos.WeChatPay,
		State: pos.StateSucceeded, CreatedAt: time.Date(2026, 12, 2, 3, 25, 0, 0, time.UTC)}
	p.UpdatedAt = p.CreatedAt
	h := printer.Header{Merchant: "Test shop"}
	before := qr.Encodes()
	var out [][]byte
	for _, c := range []printer.Copy{printer.MerchantCopy, printer.CustomerCopy} {
		b, err := Encode(printer.PaymentReceipt(p, h, c), Profile80, EncodeOptions{RasterQR: true})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if n := qr.Encodes() - before; n != 1 {
		t.Errorf("two copies of a payment's receipt encoded the QR %d times, want once", n)
	}
	bits, err := QRBitmap(p.TransactionID, fitModule(Profile80.QRModule, 0, Profile80.Dots), QRLevelM)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range out {
		if !bytes.Contains(b, bits.Pix[:bits.Stride()*4]) {
			t.Errorf("copy %d does not carry the QR's raster", i)
		}
	}
}
