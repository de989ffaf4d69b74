package flows

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/store"
)

// RetentionOptions configures the journal's retention policy.
type RetentionOptions struct {
	// Journal prunes (store/sqlite implements it). Required.
	Journal store.Pruner
	// Keep is the retention window: a payment final (with its refunds)
	// and unchanged for longer is compacted. Required; cmd/posagent passes
	// journal.retention, which configs refuses below its minimum.
	Keep time.Duration
	// Location is the till's time zone, whose dates the day totals are
	// kept by, as the summary reads them (default time.Local).
	Location *time.Location
	// Every is how often to prune after the first run at start (default
	// 24h). Batch bounds the payments of one journal write (default 200),
	// so a first prune of years of history never holds the writer long.
	Every  time.Duration
	Batch  int
	Clock  Clock        // default SystemClock
	Logger *slog.Logger // default: discard
}

// Retention compacts the journal's old history: final payments older than
// the window are rolled into the day totals and pruned (store.Pruner), so
// the journal does not grow for ever while every day's summary stays what
// it was. Nothing pending, owed to a gateway or the printer, or in the
// outbox is ever touched.
type Retention struct {
	o   RetentionOptions
	log *slog.Logger
}

// NewRetention checks the options.
func NewRetention(o RetentionOptions) (*Retention, error) {
	if o.Journal == nil {
		return nil, errors.New("flows: RetentionOptions.Journal is required")
	}
	if o.Keep <= 0 {
		return nil, errors.New("flows: RetentionOptions.Keep must be positive")
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Every <= 0 {
		o.Every = 24 * time.Hour
	}
	if o.Batch <= 0 {
		o.Batch = 200
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Retention{o: o, log: o.Logger}, nil
}

// Prune compacts everything older than the window now, batch by batch,
// and logs what it pruned. It returns the sum of the batches.
func (rt *Retention) Prune(ctx context.Context) (store.PruneResult, error) {
	before := rt.o.Clock.Now().Add(-rt.o.Keep)
	zone := rt.o.Location.String()
	var sum store.PruneResult
	for ctx.Err() == nil {
		res, err := rt.o.Journal.Prune(ctx, before, rt.o.Batch, zone, func(cs []store.Compactable) []store.DayTotal {
			return DayTotals(cs, rt.o.Location)
		})
		if err != nil {
			return sum, err
		}
		sum.Payments += res.Payments
		sum.Refunds += res.Refunds
		sum.Events += res.Events
		for _, d := range res.Days {
			if !slices.Contains(sum.Days, d) {
				sum.Days = append(sum.Days, d)
			}
		}
		if res.Payments < rt.o.Batch {
			break
		}
	}
	slices.Sort(sum.Days)
	if sum.Payments > 0 {
		rt.log.Info("journal pruned: old payments compacted into their days' totals",
			"before", before.Format(time.DateOnly), "payments", sum.Payments, "refunds", sum.Refunds, "events", sum.Events,
			"firstDay", sum.Days[0], "lastDay", sum.Days[len(sum.Days)-1])
	} else {
		rt.log.Debug("journal retention: nothing to prune", "before", before.Format(time.DateOnly))
	}
	return sum, nil
}

// Run prunes at once, then every Every, until ctx ends. A failed prune is
// logged and tried again at the next run: nothing depends on it.
func (rt *Retention) Run(ctx context.Context) {
	t := time.NewTicker(rt.o.Every)
	defer t.Stop()
	for {
		if _, err := rt.Prune(ctx); err != nil && ctx.Err() == nil {
			rt.log.Error("journal retention: pruning failed; trying again later", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DayTotals is what payments and their refunds contribute to each day's
// summary in loc, by the summary's own rules (Summarize, addRefunds):
// succeeded payments counted and summed on their creation day, failed and
// reversed ones counted; succeeded refunds counted and summed on the day
// they were made, under their payment's wallet.
func DayTotals(cs []store.Compactable, loc *time.Location) []store.DayTotal {
	type key struct {
		day string
		w   pos.Wallet
		c   pos.Currency
	}
	idx := map[key]int{}
	var out []store.DayTotal
	row := func(at time.Time, w pos.Wallet, c pos.Currency) *store.DayTotal {
		k := key{at.In(loc).Format(time.DateOnly), w, c}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, store.DayTotal{Day: k.day, Zone: loc.String(), Wallet: w, Currency: c})
		}
		return &out[i]
	}
	for _, cp := range cs {
		p := cp.Payment
		switch p.State {
		case pos.StateSucceeded:
			t := row(p.CreatedAt, p.Wallet, p.Amount.Currency)
			t.Payments++
			t.Paid += p.Amount.Minor
		case pos.StateFailed:
			row(p.CreatedAt, p.Wallet, p.Amount.Currency).Failed++
		case pos.StateReversed:
			row(p.CreatedAt, p.Wallet, p.Amount.Currency).Reversed++
		}
		for _, r := range cp.Refunds {
			if r.State != pos.RefundSucceeded {
				continue
			}
			t := row(r.CreatedAt, p.Wallet, r.Amount.Currency)
			if r.Method == pos.RefundByVoid {
				t.Voids++
				t.Voided += r.Amount.Minor
				continue
			}
			t.Refunds++
			t.Refunded += r.Amount.Minor
		}
	}
	return out
}

// addDayTotals adds what pruned records contributed to s (the day's
// summary), as Summarize and addRefunds would have counted them.
func addDayTotals(s *printer.Summary, ts []store.DayTotal) {
	for _, t := range ts {
		s.Failed += t.Failed
		s.Reversed += t.Reversed
		if t.Payments == 0 && t.Refunds == 0 && t.Voids == 0 {
			continue
		}
		i := slices.IndexFunc(s.Lines, func(l printer.SummaryLine) bool {
			return l.Wallet == t.Wallet && l.Amount.Currency == t.Currency
		})
		if i < 0 {
			i = len(s.Lines)
			s.Lines = append(s.Lines, printer.SummaryLine{Wallet: t.Wallet, Amount: pos.Money{Currency: t.Currency}})
		}
		s.Lines[i].Count += t.Payments
		s.Lines[i].Amount.Minor += t.Paid
		if t.Refunds > 0 {
			s.Lines[i].Refunds += t.Refunds
			s.Lines[i].Refunded.Currency = t.Currency
			s.Lines[i].Refunded.Minor += t.Refunded
		}
		if t.Voids > 0 {
			s.Lines[i].Voids += t.Voids
			s.Lines[i].Voided.Currency = t.Currency
			s.Lines[i].Voided.Minor += t.Voided
		}
	}
	slices.SortFunc(s.Lines, func(a, b printer.SummaryLine) int {
		if c := strings.Compare(string(a.Amount.Currency), string(b.Amount.Currency)); c != 0 {
			return c
		}
		return strings.Compare(string(a.Wallet), string(b.Wallet))
	})
}

// dayTotalsReader is the part of the journal a summary reads pruned days
// from.
type dayTotalsReader interface {
	DayTotals(ctx context.Context, day string) ([]store.DayTotal, error)
}
