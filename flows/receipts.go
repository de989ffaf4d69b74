package flows

import (
	"context"
	"log/slog"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
)

// ReceiptPrinter is the ReceiptSink that prints final payments directly,
// without journaling them: both copies (as configured) of a success, the
// customer's copy of a failure (proof that nothing was charged), and the
// void voucher of a reversal. A receipt the printer refuses is lost; the
// daemon uses the Spool, which keeps it. ReceiptPrinter remains for tests
// and tools that print without a journal.
type ReceiptPrinter struct {
	Printer printer.Printer
	Header  printer.Header
	// Customer and Merchant select the copies of a successful payment.
	Customer, Merchant bool
	Logger             *slog.Logger
}

var _ ReceiptSink = (*ReceiptPrinter)(nil)

// Receipts returns the receipts a final payment gets.
func (rp *ReceiptPrinter) Receipts(p pos.Payment) []printer.Receipt {
	var out []printer.Receipt
	for _, k := range receiptKinds(p.State, rp.Customer, rp.Merchant) {
		r, err := renderReceipt(k, p, rp.Header)
		if err == nil {
			out = append(out, r)
		}
	}
	return out
}

// PaymentFinal prints p's receipts. A printer that cannot print (paper out,
// offline) is logged; the payment itself is unaffected.
func (rp *ReceiptPrinter) PaymentFinal(ctx context.Context, p pos.Payment) {
	for _, r := range rp.Receipts(p) {
		if err := rp.Printer.Print(ctx, r); err != nil && rp.Logger != nil {
			rp.Logger.Error("receipt not printed", "payment", p.ID, "receipt", r.Name, "err", err)
		}
	}
}
