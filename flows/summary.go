package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/store"
)

// Summarize totals payments for the end-of-day summary: per wallet and
// currency, the succeeded payments' count and amount; failed and reversed
// payments are counted, not summed, since they moved no money. Pending
// payments are left out: they are not business yet. Lines come sorted by
// currency, then wallet, so the same day prints the same way.
func Summarize(payments []pos.Payment, from, to time.Time) printer.Summary {
	s := printer.Summary{From: from, To: to}
	type key struct {
		w pos.Wallet
		c pos.Currency
	}
	idx := map[key]int{}
	for _, p := range payments {
		switch p.State {
		case pos.StateFailed:
			s.Failed++
			continue
		case pos.StateReversed:
			s.Reversed++
			continue
		case pos.StateSucceeded:
		default:
			continue
		}
		k := key{p.Wallet, p.Amount.Currency}
		i, ok := idx[k]
		if !ok {
			i = len(s.Lines)
			idx[k] = i
			s.Lines = append(s.Lines, printer.SummaryLine{Wallet: p.Wallet, Amount: pos.Money{Currency: p.Amount.Currency}})
		}
		s.Lines[i].Count++
		s.Lines[i].Amount.Minor += p.Amount.Minor
	}
	slices.SortFunc(s.Lines, func(a, b printer.SummaryLine) int {
		if c := strings.Compare(string(a.Amount.Currency), string(b.Amount.Currency)); c != 0 {
			return c
		}
		return strings.Compare(string(a.Wallet), string(b.Wallet))
	})
	return s
}

// dayBounds is [midnight, next midnight) of day's date in loc.
func dayBounds(day time.Time, loc *time.Location) (time.Time, time.Time) {
	d := day.In(loc)
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 0, 1)
}

// DaySummary totals the payments created on day's date in the till's time
// zone, and the refunds made that day, with what the retention policy
// pruned of that day (the journal's day totals).
func (s *Spool) DaySummary(ctx context.Context, day time.Time) (printer.Summary, error) {
	from, to := dayBounds(day, s.o.Location)
	ps, err := s.o.Journal.PaymentsBetween(ctx, from, to)
	if err != nil {
		return printer.Summary{}, err
	}
	sum := Summarize(ps, from, to)
	if err := s.addDayRefunds(ctx, &sum, from, to); err != nil {
		return printer.Summary{}, err
	}
	if tr, ok := s.o.Journal.(dayTotalsReader); ok {
		// What the retention policy pruned of this day (retention.go).
		ts, err := tr.DayTotals(ctx, from.Format(time.DateOnly))
		if err != nil {
			return printer.Summary{}, err
		}
		addDayTotals(&sum, ts)
	}
	return sum, nil
}

// PrintSummary queues the end-of-day summary of day's date (in the till's
// time zone) and wakes the printer. The totals are taken when it prints, so
// a summary queued while the printer is out of paper is still complete.
func (s *Spool) PrintSummary(ctx context.Context, day time.Time) (store.PrintJob, error) {
	from, _ := dayBounds(day, s.o.Location)
	jobs, err := s.o.Journal.EnqueuePrints(ctx, s.o.Clock.Now(), []store.PrintJob{{Kind: store.SummaryKind(from)}})
	if err != nil {
		return store.PrintJob{}, err
	}
	s.log.Info("summary queued", "day", from.Format(time.DateOnly))
	s.Wake()
	return jobs[0], nil
}

// PrintTest queues a test print (printer.TestReceipt) and wakes the
// printer. It goes through the journal's print queue like any receipt, so
// it is printed by the one goroutine that owns the printer and waits out
// paper-out like the rest.
func (s *Spool) PrintTest(ctx context.Context) (store.PrintJob, error) {
	jobs, err := s.o.Journal.EnqueuePrints(ctx, s.o.Clock.Now(), []store.PrintJob{{Kind: store.ReceiptTest}})
	if err != nil {
		return store.PrintJob{}, err
	}
	s.log.Info("test print queued", "job", jobs[0].ID)
	s.Wake()
	return jobs[0], nil
}

// renderSummary renders a summary-YYYYMMDD job.
func (s *Spool) renderSummary(ctx context.Context, j store.PrintJob) (printer.Receipt, error) {
	const op = "flows.Render"
	day, ok := strings.CutPrefix(j.Kind, "summary-")
	if !ok {
		return printer.Receipt{}, pos.Errorf(pos.Invalid, op, "print job %d: %q is not a summary", j.ID, j.Kind)
	}
	d, err := time.ParseInLocation("20060102", day, s.o.Location)
	if err != nil {
		return printer.Receipt{}, pos.Errorf(pos.Invalid, op, "print job %d: bad summary day %q", j.ID, day)
	}
	sum, err := s.DaySummary(ctx, d)
	if err != nil {
		return printer.Receipt{}, err
	}
	r := printer.SummaryReceipt(sum, s.o.Header)
	r.Name = fmt.Sprintf("%s-%d", j.Kind, j.ID)
	return r, nil
}
