package flows

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/store"
)

var _ RefundReceiptPlanner = (*Spool)(nil)

// refundReader is what the spool needs to render a refund receipt; the
// SQLite journal has it. A journal without it cannot hold refund jobs.
type refundReader interface {
	Refund(ctx context.Context, id string) (pos.Refund, error)
}

// RefundReceiptJobs returns the print jobs a final refund owes, like a
// payment's: both copies (as configured) of a success, the customer's copy
// of a failure, merchant's first.
func (s *Spool) RefundReceiptJobs(r pos.Refund) []store.PrintJob {
	var out []store.PrintJob
	for _, k := range refundReceiptKinds(r.State, s.o.Customer, s.o.Merchant) {
		out = append(out, store.PrintJob{PaymentID: r.PaymentID, RefundID: r.ID, Kind: k})
	}
	return out
}

func refundReceiptKinds(st pos.RefundState, customer, merchant bool) []string {
	var out []string
	switch st {
	case pos.RefundSucceeded:
		if merchant {
			out = append(out, store.ReceiptRefundMerchant)
		}
		if customer {
			out = append(out, store.ReceiptRefundCustomer)
		}
	case pos.RefundFailed:
		if customer || merchant {
			out = append(out, store.ReceiptRefundCustomer)
		}
	}
	return out
}

// renderRefund renders a refund receipt job from the journal as it is now.
func (s *Spool) renderRefund(ctx context.Context, j store.PrintJob) (printer.Receipt, error) {
	const op = "flows.Render"
	rj, ok := s.o.Journal.(refundReader)
	if !ok {
		return printer.Receipt{}, pos.Errorf(pos.Internal, op, "print job %d names refund %s, but the journal keeps no refunds", j.ID, j.RefundID)
	}
	r, err := rj.Refund(ctx, j.RefundID)
	if err != nil {
		return printer.Receipt{}, err
	}
	p, err := s.o.Journal.Payment(ctx, r.PaymentID)
	if err != nil {
		return printer.Receipt{}, err
	}
	c := printer.CustomerCopy
	switch j.Kind {
	case store.ReceiptRefundCustomer:
	case store.ReceiptRefundMerchant:
		c = printer.MerchantCopy
	default:
		return printer.Receipt{}, pos.Errorf(pos.Invalid, op, "print job %d: %q is not a refund receipt", j.ID, j.Kind)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.In(s.o.Location), p.UpdatedAt.In(s.o.Location)
	pr := printer.Refund{
		ID: r.ID, OutRefundNo: r.OutRefundNo, RefundID: r.GatewayRefundID, Amount: r.Amount,
		At: r.UpdatedAt.In(s.o.Location), State: r.State.Status(), Reason: r.Reason, Void: r.Method == pos.RefundByVoid,
	}
	if r.State == pos.RefundFailed {
		pr.Reason = r.Outcome
	}
	rc := printer.RefundReceipt(p, pr, s.o.Header, c)
	if j.Reprint {
		rc = markReprint(rc, j.ID, j.CreatedAt.In(s.o.Location))
	}
	return rc, nil
}

// summaryJournal is what the summary needs to count refunds.
type summaryJournal interface {
	RefundsBetween(ctx context.Context, from, to time.Time) ([]pos.Refund, error)
}

// addRefunds counts the day's succeeded refunds into s, per wallet and
// currency of their payments: a refund of yesterday's payment counts
// today, when the money went back. payment looks a payment up by ID.
func addRefunds(s *printer.Summary, refunds []pos.Refund, payment func(id string) (pos.Payment, error)) error {
	for _, r := range refunds {
		if r.State != pos.RefundSucceeded {
			continue
		}
		p, err := payment(r.PaymentID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(s.Lines, func(l printer.SummaryLine) bool {
			return l.Wallet == p.Wallet && l.Amount.Currency == r.Amount.Currency
		})
		if i < 0 {
			i = len(s.Lines)
			s.Lines = append(s.Lines, printer.SummaryLine{Wallet: p.Wallet, Amount: pos.Money{Currency: r.Amount.Currency}})
		}
		if r.Method == pos.RefundByVoid {
			s.Lines[i].Voids++
			s.Lines[i].Voided.Currency = r.Amount.Currency
			s.Lines[i].Voided.Minor += r.Amount.Minor
			continue
		}
		s.Lines[i].Refunds++
		s.Lines[i].Refunded.Currency = r.Amount.Currency
		s.Lines[i].Refunded.Minor += r.Amount.Minor
	}
	slices.SortFunc(s.Lines, func(a, b printer.SummaryLine) int {
		if c := strings.Compare(string(a.Amount.Currency), string(b.Amount.Currency)); c != 0 {
			return c
		}
		return strings.Compare(string(a.Wallet), string(b.Wallet))
	})
	return nil
}

// addDayRefunds counts the refunds created in [from, to) into sum, when the
// journal keeps refunds.
func (s *Spool) addDayRefunds(ctx context.Context, sum *printer.Summary, from, to time.Time) error {
	rj, ok := s.o.Journal.(summaryJournal)
	if !ok {
		return nil
	}
	rs, err := rj.RefundsBetween(ctx, from, to)
	if err != nil {
		return err
	}
	return addRefunds(sum, rs, func(id string) (pos.Payment, error) { return s.o.Journal.Payment(ctx, id) })
}

// ReprintRefund enqueues fresh copies of a final refund's receipts, marked
// REPRINT, and returns the jobs. kinds chooses them (store.ReceiptRefund*);
// none means the ones the refund got when it became final, or its
// customer's copy when copies are off. An unknown refund is pos.NotFound,
// one not yet final pos.Conflict, a kind it has no receipt of pos.Invalid.
func (s *Spool) ReprintRefund(ctx context.Context, refundID string, kinds ...string) ([]store.PrintJob, error) {
	const op = "flows.ReprintRefund"
	rj, ok := s.o.Journal.(refundReader)
	if !ok {
		return nil, pos.Errorf(pos.Unavailable, op, "the journal keeps no refunds")
	}
	r, err := rj.Refund(ctx, refundID)
	if err != nil {
		return nil, err
	}
	if !r.State.Final() {
		return nil, pos.Errorf(pos.Conflict, op, "refund %s is %s; its receipts print when it is final", r.ID, r.State)
	}
	allowed := refundReceiptKinds(r.State, true, true)
	if len(kinds) == 0 {
		kinds = refundReceiptKinds(r.State, s.o.Customer, s.o.Merchant)
		if len(kinds) == 0 {
			kinds = allowed[len(allowed)-1:] // the customer's copy
		}
	}
	jobs := make([]store.PrintJob, 0, len(kinds))
	for _, k := range kinds {
		if !slices.Contains(allowed, k) {
			return nil, pos.Errorf(pos.Invalid, op, "refund %s is %s: it has no %q receipt (it has %v)", r.ID, r.State, k, allowed)
		}
		jobs = append(jobs, store.PrintJob{PaymentID: r.PaymentID, RefundID: r.ID, Kind: k, Reprint: true})
	}
	out, err := s.o.Journal.EnqueuePrints(ctx, s.o.Clock.Now(), jobs)
	if err != nil {
		return nil, err
	}
	s.log.Info("refund reprint queued", "refund", r.ID, "jobs", len(out))
	s.Wake()
	return out, nil
}
