package flows

import (
	"context"
	"log/slog"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
)

// ReceiptPrinter is the ReceiptSink that prints final payments: both copies
// (as configured) of a success, the customer's copy of a failure (proof that
// nothing was charged), and the void voucher of a reversal.
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
	switch p.State {
	case pos.StateSucceeded:
		if rp.Merchant {
			out = append(out, printer.PaymentReceipt(p, rp.Header, printer.MerchantCopy))
		}
		if rp.Customer {
			out = append(out, printer.PaymentReceipt(p, rp.Header, printer.CustomerCopy))
		}
	case pos.StateFailed:
		if rp.Customer || rp.Merchant {
			out = append(out, printer.PaymentReceipt(p, rp.Header, printer.CustomerCopy))
		}
	case pos.StateReversed:
		if rp.Customer || rp.Merchant {
			out = append(out, printer.ReversalReceipt(p, rp.Header))
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
