package flows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/store"
)

// TestRefundReceiptsCanBeReprinted: a final refund's receipts print again,
// marked REPRINT; a kind it has no receipt of, and an unknown refund, are
// refused before anything is queued.
func TestRefundReceiptsCanBeReprinted(t *testing.T) {
	rr := newRefundRig(t, true)
	ctx := context.Background()
	p := rr.pay(t, 2000)
	ref, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: money(t, 800), Reason: "one item returned"})
	if err != nil {
		t.Fatal(err)
	}
	ref = finalRefund(t, rr.refunds, ref.ID)
	if ref.State != pos.RefundSucceeded {
		t.Fatalf("refund %s", ref.State)
	}
	jobs, err := rr.spool.ReprintRefund(ctx, ref.ID, store.ReceiptRefundCustomer)
	if err != nil || len(jobs) != 1 || !jobs[0].Reprint || jobs[0].RefundID != ref.ID {
		t.Fatalf("reprint: %+v %v", jobs, err)
	}
	var got printer.Receipt
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && got.Name == "" {
		for _, r := range rr.printer.Printed() {
			if strings.HasPrefix(r.Name, ref.ID+"-customer-reprint") {
				got = r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got.Name == "" {
		t.Fatalf("no reprint of the refund's customer copy: printed %v", names(rr.printer))
	}
	var words strings.Builder
	for _, b := range got.Blocks {
		if tx, ok := b.(printer.Text); ok {
			words.WriteString(tx.Text + "\n")
		}
	}
	if s := words.String(); !strings.Contains(s, "REPRINT 重印") || !strings.Contains(s, "REFUND 退款凭证") {
		t.Errorf("the reprint does not say it is a reprinted refund receipt:\n%s", s)
	}
	if _, err := rr.spool.ReprintRefund(ctx, ref.ID, store.ReceiptCustomer); !pos.Match(pos.Invalid, err) {
		t.Errorf("reprinting a payment receipt kind as a refund's: %v, want Invalid", err)
	}
	if _, err := rr.spool.ReprintRefund(ctx, "ref_nosuch"); !pos.Match(pos.NotFound, err) {
		t.Errorf("reprinting an unknown refund: %v, want NotFound", err)
	}
}
