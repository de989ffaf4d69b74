// Package printertest has a recording fake Printer and the sample receipts
// that the encoder's golden files, the virtual printer's previews and the
// benchmark share.
package printertest

import (
	"context"
	"image"
	"image/color"
	"math"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
)

// Recorder is a Printer that keeps what it is given. Set Err to make Print
// fail (the receipt is then not kept), and St to change the status.
type Recorder struct {
	mu       sync.Mutex
	Receipts []printer.Receipt
	Err      error
	St       printer.Status
}

var _ printer.Printer = (*Recorder)(nil)

// NewRecorder returns a Recorder that reports itself online.
func NewRecorder() *Recorder { return &Recorder{St: printer.Status{Online: true}} }

// Print records r, or returns Err.
func (r *Recorder) Print(ctx context.Context, rc printer.Receipt) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return r.Err
	}
	r.Receipts = append(r.Receipts, rc)
	return nil
}

// Status returns St.
func (r *Recorder) Status(ctx context.Context) (printer.Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.St, nil
}

// Printed returns a copy of the receipts printed so far.
func (r *Recorder) Printed() []printer.Receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]printer.Receipt(nil), r.Receipts...)
}

// Logo is a deterministic 192×64 logo with flat areas and a gradient, so
// both thresholding and dithering have something to do.
func Logo() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 192, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 192; x++ {
			c := color.RGBA{255, 255, 255, 255}
			dx, dy := float64(x-32), float64(y-32)
			switch d := math.Hypot(dx, dy); {
			case d < 28 && d > 20:
				c = color.RGBA{200, 30, 30, 255}
			case d <= 20:
				g := uint8(40 + 200*(dx+20)/40)
				c = color.RGBA{g, g, g, 255}
			case x >= 72 && x < 184 && (y >= 12 && y < 24 || y >= 40 && y < 52):
				c = color.RGBA{20, 20, 120, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// Header is a sample shop.
func Header() printer.Header {
	return printer.Header{
		Merchant: "Lucky Noodle 好运面馆",
		Store:    "SH-001 上海南京路店",
		Terminal: "till-02",
		Lines:    []string{"88 Nanjing Rd, Shanghai", "Tel 021-5555 0188"},
		Footer:   []string{"Thank you! 谢谢惠顾", "Returns within 7 days with receipt"},
		Logo:     Logo(),
	}
}

// Payment is a sample succeeded WeChat Pay micropay.
func Payment() pos.Payment {
	at := time.Date(2025, 3, 14, 12, 34, 56, 0, time.FixedZone("CST", 8*3600))
	return pos.Payment{
		ID:            "pay_01HQ7Z3K4M",
		OutTradeNo:    "PA20250314123456000042",
		Gateway:       "mmsp",
		Method:        pos.Micropay,
		Amount:        pos.Money{Minor: 12345, Currency: "CNY"},
		Wallet:        pos.WeChatPay,
		CodeMasked:    pos.MaskCode("134567890123456789"),
		State:         pos.StateSucceeded,
		TransactionID: "4200002345202503141234567890",
		CreatedAt:     at.Add(-5 * time.Second),
		UpdatedAt:     at,
	}
}

// Named is a receipt with the name its golden file and preview take.
type Named struct {
	Name    string
	Receipt printer.Receipt
}

// Receipts are the representative receipts: payment (both copies),
// refund, void and the end-of-day summary.
func Receipts() []Named {
	h := Header()
	p := Payment()
	rev := p
	rev.ID = "pay_01HQ7Z9XYZ"
	rev.State = pos.StateReversed
	rev.Reason = "cancelled by cashier"
	rev.Wallet = pos.Alipay
	rev.CodeMasked = pos.MaskCode("286543210987654321")
	rev.TransactionID = "2025031422001412345678901234"
	ref := printer.Refund{
		ID: "ref_01HQ8A", OutRefundNo: "RF20250314150000000007", RefundID: "50300002345202503140001",
		Amount: pos.Money{Minor: 2000, Currency: "CNY"}, At: p.UpdatedAt.Add(150 * time.Minute),
		State: "succeeded", Reason: "one dish returned",
	}
	sum := printer.Summary{
		From: time.Date(2025, 3, 14, 0, 0, 0, 0, p.UpdatedAt.Location()),
		To:   time.Date(2025, 3, 14, 23, 0, 0, 0, p.UpdatedAt.Location()),
		Lines: []printer.SummaryLine{
			{Wallet: pos.WeChatPay, Count: 42, Amount: pos.Money{Minor: 512300, Currency: "CNY"}, Refunds: 1, Refunded: pos.Money{Minor: 2000, Currency: "CNY"}},
			{Wallet: pos.Alipay, Count: 17, Amount: pos.Money{Minor: 198050, Currency: "CNY"}},
			{Wallet: pos.Alipay, Count: 2, Amount: pos.Money{Minor: 4500, Currency: "HKD"}},
		},
		Failed: 3, Reversed: 1,
	}
	return []Named{
		{"payment-customer", printer.PaymentReceipt(p, h, printer.CustomerCopy)},
		{"payment-merchant", printer.PaymentReceipt(p, h, printer.MerchantCopy)},
		{"refund-customer", printer.RefundReceipt(p, ref, h, printer.CustomerCopy)},
		{"void", printer.ReversalReceipt(rev, h)},
		{"summary", printer.SummaryReceipt(sum, h)},
	}
}
